-- metrics: the shared counters, after counting locks that ran out.
-- KEYS: stats, live-lock set, and in Redis Cluster the resource's event
--       stream (the locks that ran out are reported there as expired).
local now = now_ms()
expire_holds(KEYS[2], KEYS[1], now)
local stats = { activeLocks = redis.call('ZCARD', KEYS[2]) }
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
    stats[flat[i]] = tonumber(flat[i + 1])
end
return cjson.encode({ ok = true, stats = stats })
