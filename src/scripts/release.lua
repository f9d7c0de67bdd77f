-- release: compare-and-delete. Only the holder of lockId can remove it, so a
-- lockId that has expired never removes a lock someone acquired since.
-- KEYS: lock key from the request's slot fields ('' when not sent),
--       lockId index, live-lock set, stats.
-- ARGV: lockId, expected fields as JSON ('' for none).
local lock, key = lock_by_id(KEYS[1], KEYS[2], ARGV[1])
if not lock or not lock_matches(lock, ARGV[2]) then
    return fail('lock_not_found')
end
remove_lock(lock, key, KEYS[2], KEYS[3], KEYS[4], now_ms())
redis.call('HINCRBY', KEYS[4], 'locksReleased', 1)
return cjson.encode({ ok = true })
