-- checkout: the payment phase of a hold. Its life becomes the payment hold
-- from now (its own cap, whatever LOCK_MAX_HOLD says), once: refresh and a
-- second checkout then answer checkout_started; release and booking work
-- as before.
-- KEYS: lock key ('' when only the lockId index knows it), live-lock set,
--       stats, the resource's event stream ('' when only the lockId
--       index knows the lock), and with one Redis the lockId index.
-- ARGV: lockId, payment hold ms, expected fields as JSON ('' for none).
local lock, key = lock_by_id(KEYS[1], KEYS[5], ARGV[1])
if not lock or lock.opaque or not lock_matches(lock, ARGV[3]) then
    return fail('lock_not_found')
end
if lock.state == 'checkout' then
    return fail('checkout_started')
end
local now = now_ms()
local expires_at = now + tonumber(ARGV[2])
lock.state = 'checkout'
lock.maxUntil = expires_at
redis.call('SET', key, cjson.encode(lock), 'PXAT', expires_at)
set_lock_expiry(lock, key, KEYS[5], KEYS[2], KEYS[3], expires_at)
hold_event(KEYS[4], KEYS[2], 'hold.checkout', lock, expires_at, nil, now)
return lock_answer(lock, now, expires_at)
