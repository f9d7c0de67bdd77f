-- release: compare-and-delete. Only the holder of lockId can remove it, so a
-- lockId that has expired never removes a lock someone acquired since.
-- KEYS: lock key ('' when only the lockId index knows it), live-lock set,
--       stats, this lockId's release tombstone, the resource's event
--       stream ('' when only the lockId index knows the lock), and with
--       one Redis the lockId index.
-- ARGV: lockId, expected fields as JSON ('' for none), this request's
--       attempt token, ms to keep the tombstone.
-- Our own earlier run? The token is made per request before the first
-- attempt and sent again unchanged when its reply was lost; the run that
-- removed the lock left it in the tombstone, with what the answer needs.
local gone = redis.call('GET', KEYS[4])
if gone then
    local ok, was = pcall(cjson.decode, gone)
    if ok and type(was) == 'table' and was.token == ARGV[3] then
        return removed_answer(was)
    end
end
local lock, key = lock_by_id(KEYS[1], KEYS[6], ARGV[1])
if not lock or not lock_matches(lock, ARGV[2]) then
    return fail('lock_not_found')
end
remove_lock(lock, key, KEYS[6], KEYS[2], KEYS[3], now_ms())
redis.call('HINCRBY', KEYS[3], 'locksReleased', 1)
hold_event(KEYS[5], KEYS[2], 'hold.released', lock)
redis.call('SET', KEYS[4], cjson.encode({ token = ARGV[3],
    lockId = lock.lockId, tenantId = lock.tenantId,
    holderId = lock.holderId }), 'PX', tonumber(ARGV[4]))
return removed_answer(lock)
