#!lua flags=allow-cross-slot-keys
-- The "#!lua" line makes Redis refuse the whole script with OOM when it is
-- at maxmemory (noeviction), before it runs. Without it Redis only refuses
-- the first write that may grow memory, and a script whose first write is a
-- ZREM goes on to store a new lock past maxmemory. allow-cross-slot-keys
-- keeps what scripts without the line may do.
-- acquire: hold [start, start+duration) for one tenant, resource and date.
-- KEYS: lock, day lock index, day bookings, stats, live-lock set, the
--       resource's settings, its fence counter, its event stream, and the
--       lockId index of the new lock (in Redis Cluster, when the app could
--       put it on this slot: always, in practice).
-- ARGV: lockId, holderId ('' for none), tenantId, resourceId, date,
--       startTime, start minute, duration, ttl ms, max hold ms,
--       max locks per holder, lock key prefix of the day, and in Redis
--       Cluster the holder's live locks as the caller counted them: 0 when
--       it reserved a place for this lock, the cap when none was left;
--       then the client's address ('' when it is exempt), the address's
--       live locks as the caller counted them (as for the holder) and the
--       cap per address.
local lock_key, index_key, booked_key, stats_key, live_key, fence_key, lockid =
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7], KEYS[9]
local events_key = KEYS[8]
local holder = ARGV[2]
local s, d = tonumber(ARGV[7]), tonumber(ARGV[8])
local ttl, max_hold = tonumber(ARGV[9]), tonumber(ARGV[10])
local now = now_ms()
local set = resource_settings(KEYS[6])
local g = set.before + set.after

-- Our own earlier run? The lockId is made before the first attempt and
-- sent again unchanged when its reply was lost: a live lock with it is
-- the one that run made, answered again as it was, counted once.
local mine = read_lock(lock_key)
if set.shared and not (mine and mine.lockId == ARGV[1]) then
    mine = read_lock(seat_key(lock_key, ARGV[1]))
    lock_key = mine and seat_key(lock_key, ARGV[1]) or lock_key
end
if mine and mine.lockId == ARGV[1] and not mine.opaque then
    return lock_answer(mine, now, redis.call('PEXPIRETIME', lock_key))
end

local held
if set.shared then
    -- Holds may overlap: count the places taken (see places_taken). The
    -- same holder's own hold of this interval is renewed as below; it may
    -- be any of those starting at this minute.
    local own = read_lock(lock_key)
    if own and own.opaque then
        held = { lock = own, key = lock_key,
                 pttl = redis.call('PTTL', lock_key) }
    elseif holder ~= '' then
        for _, m in ipairs(redis.call('ZRANGEBYSCORE', index_key, s, s)) do
            local e = index_entry(ARGV[12], m, s)
            local l = e.duration == d and e.lock_id
                      and entry_lock(index_key, ARGV[12], e, now)
            if l and l.lock.holderId == holder then
                held, lock_key = l, l.key
                break
            end
        end
    end
    if not held then
        local taken, booked, locks = places_taken(index_key, booked_key,
            ARGV[12], s, d, set, now)
        if taken >= set.capacity and (set.capacity > 1 or booked) then
            redis.call('HINCRBY', stats_key, 'locksFailed', 1)
            return fail(set.capacity > 1 and 'slot_full' or 'slot_booked')
        elseif taken >= set.capacity then
            held = locks[1]
        elseif own then
            lock_key = seat_key(lock_key, ARGV[1])
        end
    end
else
    if booked_overlap(booked_key, s, d, g) then
        redis.call('HINCRBY', stats_key, 'locksFailed', 1)
        return fail('slot_booked')
    end

    held = lock_overlap(index_key, ARGV[12], s, d, now, g)
    if not held and redis.call('EXISTS', lock_key) == 1 then
        -- A value set by hand at this start time, outside the index.
        held = { lock = read_lock(lock_key), key = lock_key,
                 pttl = redis.call('PTTL', lock_key) }
    end
end
if held then
    local lock = held.lock
    if holder ~= '' and lock.holderId == holder and held.key == lock_key
       and lock.duration == d then
        -- The same holder again: a refresh, capped by the first acquire;
        -- in the payment phase it changes nothing.
        if lock.state == 'checkout' then
            return lock_answer(lock, now, redis.call('PEXPIRETIME', lock_key))
        end
        local expires_at = math.min(now + ttl, lock.maxUntil)
        set_lock_expiry(lock, lock_key, lockid and lockid_key(lock.lockId),
                        live_key, stats_key, expires_at)
        redis.call('HINCRBY', stats_key, 'locksRefreshed', 1)
        hold_event(events_key, live_key, 'hold.refreshed', lock, expires_at,
                   redis.call('HGET', stats_key, 'locksRefreshed'), now)
        return lock_answer(lock, now, expires_at)
    end
    redis.call('HINCRBY', stats_key, 'locksFailed', 1)
    return fail('slot_locked', { remainingTTL = held.pttl })
end

local lock = { lockId = ARGV[1], tenantId = ARGV[3], resourceId = ARGV[4],
               date = ARGV[5], startTime = ARGV[6], duration = d,
               acquiredAt = now, maxUntil = now + max_hold }
if holder ~= '' then
    lock.holderId = holder
    local held = tonumber(ARGV[13])
    if SHARED then
        local hkey = holder_key(lock)
        held = holder_count(hkey, now, tonumber(ARGV[11]))
    end
    if held >= tonumber(ARGV[11]) then
        redis.call('HINCRBY', stats_key, 'locksFailed', 1)
        return fail('too_many_locks')
    end
end
if ARGV[14] ~= '' then
    -- Hoarding without a holderId: the live locks of one address are
    -- capped per tenant too.
    lock.clientAddr = ARGV[14]
    local held = SHARED and live_count(client_key(lock), now)
                 or tonumber(ARGV[15])
    if held >= tonumber(ARGV[16]) then
        redis.call('HINCRBY', stats_key, 'locksFailed', 1)
        return fail('too_many_locks')
    end
end

-- Locks that ran out since the last acquire are counted and reported as
-- expired here (some at a time; the sweeper does the rest), so the live
-- set stays as small as the number of live locks.
expire_holds(live_key, stats_key, now, 100)

-- The fencing token: strictly increasing over every hold ever made on
-- this resource, so that a writer holding an older one can be refused.
lock.fence = redis.call('INCR', fence_key)

-- Absolute expiry times, so that the key dies exactly at the expiresAt the
-- client is told, on the same clock as maxUntil.
local expires_at = now + ttl
redis.call('SET', lock_key, cjson.encode(lock), 'PXAT', expires_at)
redis.call('ZADD', index_key, s, index_member(s, d, expires_at, lock.lockId))
max_pexpire(index_key, max_hold)
if lock_key == KEYS[1] then
    max_pexpire(map_put(index_key, s, map_record(d, expires_at), true),
                max_hold)
end
note_duration(KEYS[6], set, d)
redis.call('ZADD', live_key, expires_at, lock.lockId)
if lockid then
    redis.call('SET', lockid, lock_key, 'PXAT', expires_at)
end
if holder ~= '' and SHARED then
    redis.call('ZADD', holder_key(lock), expires_at, lock.lockId)
    max_pexpire(holder_key(lock), max_hold)
end
if lock.clientAddr and SHARED then
    redis.call('ZADD', client_key(lock), expires_at, lock.lockId)
    max_pexpire(client_key(lock), max_hold)
end
redis.call('HINCRBY', stats_key, 'locksAcquired', 1)
hold_event(events_key, live_key, 'hold.acquired', lock, expires_at, nil, now)
return lock_answer(lock, now, expires_at)
