-- force_release: an admin removes whatever live lock starts on this slot.
-- KEYS: lock key, live-lock set, stats, the resource's event stream.
local lock = read_lock(KEYS[1])
if not lock then
    return fail('lock_not_found')
end
remove_lock(lock, KEYS[1],
            SHARED and not lock.opaque and lockid_key(lock.lockId) or nil,
            KEYS[2], KEYS[3], now_ms())
redis.call('HINCRBY', KEYS[3], 'locksReleased', 1)
hold_event(KEYS[4], KEYS[2], 'hold.force_released', lock)
return removed_answer(lock)
