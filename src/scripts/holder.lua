-- holder: one holder's live locks in Redis Cluster, where the lock scripts
-- cannot reach them (they live under {tenantId}, not {tenantId|resourceId}).
-- Locks that ran out are dropped first.
-- KEYS: booking_holder:{tenantId}:<holderId>.
-- ARGV: 'reserve', lockId, ttl ms, max locks, ms to keep the set: takes a
--       place for a lock about to be acquired, unless the holder already
--       has max locks ({"reserved":false});
--       'add', lockId, expiresAt, ms to keep the set: a lock's new end;
--       'remove', lockId;
--       'list': the lockIds in the set ({"lockIds":[...]}).
local now = now_ms()
local key, op, lock_id = KEYS[1], ARGV[1], ARGV[2]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if op == 'reserve' then
    -- Our own earlier run? The lockId is made before the first attempt and
    -- sent again unchanged when its reply was lost: its place is taken.
    if redis.call('ZSCORE', key, lock_id) then
        return cjson.encode({ ok = true, reserved = true })
    end
    if redis.call('ZCARD', key) >= tonumber(ARGV[4]) then
        return cjson.encode({ ok = true, reserved = false })
    end
    redis.call('ZADD', key, now + tonumber(ARGV[3]), lock_id)
    max_pexpire(key, tonumber(ARGV[5]))
    return cjson.encode({ ok = true, reserved = true })
elseif op == 'add' then
    redis.call('ZADD', key, 'XX', tonumber(ARGV[3]), lock_id)
    max_pexpire(key, tonumber(ARGV[4]))
elseif op == 'remove' then
    redis.call('ZREM', key, lock_id)
elseif op == 'list' then
    return cjson.encode({ ok = true,
                          lockIds = redis.call('ZRANGE', key, 0, -1) })
end
return cjson.encode({ ok = true })
