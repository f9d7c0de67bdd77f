-- metrics: the shared counters, after counting locks that ran out.
-- KEYS: stats, live-lock set.
local now = now_ms()
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if expired > 0 then
    redis.call('HINCRBY', KEYS[1], 'locksExpired', expired)
end
local stats = { activeLocks = redis.call('ZCARD', KEYS[2]) }
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
    stats[flat[i]] = tonumber(flat[i + 1])
end
return cjson.encode({ ok = true, stats = stats })
