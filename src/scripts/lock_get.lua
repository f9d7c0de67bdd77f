-- lock_get: a live lock by its id, for a page that lost its countdown.
-- KEYS: lock key ('' when only the lockId index knows it), live-lock set,
--       stats (both unused), the event stream (unused), and with one
--       Redis the lockId index.
-- ARGV: lockId.
local lock, key = lock_by_id(KEYS[1], KEYS[5], ARGV[1])
if not lock or lock.opaque then
    return fail('lock_not_found')
end
local now = now_ms()
local pttl = redis.call('PTTL', key)
return cjson.encode({ ok = true, lockId = lock.lockId,
                      tenantId = lock.tenantId, resourceId = lock.resourceId,
                      date = lock.date, startTime = lock.startTime,
                      duration = lock.duration, expiresIn = pttl,
                      expiresAt = now + pttl, serverTime = now,
                      state = lock.state or 'held', fence = lock.fence })
