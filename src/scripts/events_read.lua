-- events_read: a page of one resource's event stream, for the pull API,
-- with Redis's time (no later entry can have an id before it). Without
-- KEYS, only the time.
-- KEYS: the event stream.
-- ARGV: first id (XRANGE syntax, '(' for after), the id to stop before,
--       how many at most.
local t = redis.call('TIME')
local now = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
if #KEYS == 0 then
    return cjson.encode({ ok = true, now = now })
end
local out = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1], '(' .. ARGV[2],
                              'COUNT', tonumber(ARGV[3]))) do
    local fields = e[2]
    for i = 1, #fields, 2 do
        if fields[i] == 'event' then
            out[#out + 1] = e[1] .. ' ' .. fields[i + 1]
        end
    end
end
return '{"ok":true,"now":"' .. now .. '","entries":' .. cjson.encode(out)
       .. '}'
