-- verify: is lockId the live lock on this slot? Never changes the lock.
-- KEYS: lock key of the slot, live-lock set, stats, the event stream (the
--       three unused), and with one Redis the lockId index.
-- ARGV: lockId, expected fields as JSON ('' for none).
local lock, key = lock_by_id(KEYS[1], KEYS[5], ARGV[1])
if not lock then
    return fail('lock_not_found')
end
if key ~= KEYS[1] and key ~= seat_key(KEYS[1], ARGV[1])
   or not lock_matches(lock, ARGV[2]) then
    return fail('lock_mismatch')
end
return cjson.encode({ ok = true, remainingTTL = redis.call('PTTL', key),
                      fence = lock.fence })
