-- status: the held and booked intervals of one resource and day, without
-- lockIds or customer data. The held ones are the day's lock maps as they
-- are (one MGET, nothing decoded here, so that a full day costs Redis
-- about what an empty one does); the caller reads their records and drops
-- those whose expiresAt has passed.
-- Where holds may overlap (capacity above 1, see resource_settings) a
-- start minute may have several, and the lock maps one record each: the
-- day index is read instead, its live holds counted per interval as
-- "<start>/<duration>/<first expiresAt>/<holds>". Its members sort by
-- start, duration, then expiresAt (13 digits), so the holds of one
-- interval come one after the other, those that ran out first, and
-- nothing is decoded but two substrings per hold.
-- KEYS: day lock index, day bookings, the day's 24 lock maps (hour 00 to
--       23), the resource's settings.
-- ARGV: lock key prefix of the day (unused).
local maps = redis.call('MGET', unpack(KEYS, 3, 26))
for i = 1, 24 do
    local map = maps[i] or ''
    if string.find(map, '"', 1, true) or string.find(map, '\\', 1, true) then
        map = ''
    end
    maps[i] = map
end
local booked = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local s, d = parse_booked(m)
    if s then
        booked[#booked + 1] = { startTime = hhmm(s), duration = d }
    end
end
local set = resource_settings(KEYS[27])
local held = ''
if set.shared then
    local now, groups, last, first, n = string.format('%013d', now_ms()),
                                        {}, nil, nil, 0
    for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
        local interval, expires = string.sub(m, 1, 9), string.sub(m, 11, 23)
        if string.sub(m, 24, 24) == '/' and expires > now then
            if interval ~= last then
                if last then
                    groups[#groups + 1] = last .. '/' .. first .. '/' .. n
                end
                last, first, n = interval, expires, 0
            end
            n = n + 1
        end
    end
    if last then
        groups[#groups + 1] = last .. '/' .. first .. '/' .. n
    end
    held = ',"held":["' .. table.concat(groups, '","') .. '"]'
    if #groups == 0 then
        held = ',"held":[]'
    end
end
return '{"ok":true,"serverTime":' .. now_ms() .. ',"capacity":'
       .. set.capacity .. ',"lockMaps":["' .. table.concat(maps, '","')
       .. '"],"booked":' .. cjson.encode(booked) .. held .. '}'
