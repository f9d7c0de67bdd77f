-- release: compare-and-delete. Only the holder of lockId can remove it, so a
-- lockId that has expired never removes a lock someone acquired since.
-- KEYS: lock key ('' when only the lockId index knows it), live-lock set,
--       stats, and with one Redis the lockId index.
-- ARGV: lockId, expected fields as JSON ('' for none).
local lock, key = lock_by_id(KEYS[1], KEYS[4], ARGV[1])
if not lock or not lock_matches(lock, ARGV[2]) then
    return fail('lock_not_found')
end
remove_lock(lock, key, KEYS[4], KEYS[2], KEYS[3], now_ms())
redis.call('HINCRBY', KEYS[3], 'locksReleased', 1)
return removed_answer(lock)
