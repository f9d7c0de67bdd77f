-- refresh: extend a live lock, never past its acquire time + max hold.
-- KEYS: lock key ('' when only the lockId index knows it), live-lock set,
--       stats, the resource's event stream ('' when only the lockId
--       index knows the lock), and with one Redis the lockId index.
-- ARGV: lockId, ttl ms, expected fields as JSON ('' for none).
local lock_id, ttl = ARGV[1], tonumber(ARGV[2])
local lock, key = lock_by_id(KEYS[1], KEYS[5], lock_id)
if not lock or lock.opaque or not lock_matches(lock, ARGV[3]) then
    return fail('lock_not_found')
end
if lock.state == 'checkout' then
    return fail('checkout_started')
end
local now = now_ms()
-- The key's own absolute expiry: exact, whatever the time spent in between.
if redis.call('PEXPIRETIME', key) >= lock.maxUntil then
    return fail('max_hold_reached')
end
local expires_at = math.min(now + ttl, lock.maxUntil)
set_lock_expiry(lock, key, KEYS[5], KEYS[2], KEYS[3], expires_at)
redis.call('HINCRBY', KEYS[3], 'locksRefreshed', 1)
hold_event(KEYS[4], KEYS[2], 'hold.refreshed', lock, expires_at,
           redis.call('HGET', KEYS[3], 'locksRefreshed'), now)
return lock_answer(lock, now, expires_at)
