-- holder: one holder's live locks in Redis Cluster, where the lock scripts
-- cannot reach them (they live under {tenantId}, not {tenantId|resourceId}).
-- Locks that ran out are dropped first; the answer is how many are left.
-- KEYS: booking_holder:{tenantId}:<holderId>.
-- ARGV: 'count'; or 'add', lockId, expiresAt, ms to keep the set; or
--       'remove', lockId.
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[1] == 'add' then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[2])
    max_pexpire(KEYS[1], tonumber(ARGV[4]))
elseif ARGV[1] == 'remove' then
    redis.call('ZREM', KEYS[1], ARGV[2])
end
return cjson.encode({ ok = true, count = redis.call('ZCARD', KEYS[1]) })
