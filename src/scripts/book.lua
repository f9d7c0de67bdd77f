#!lua flags=allow-cross-slot-keys
-- The "#!lua" line makes Redis refuse the whole script with OOM when it is
-- at maxmemory (noeviction), before it runs. Without it Redis only refuses
-- the first write that may grow memory, and a script whose first write is a
-- ZREM goes on to store a new booking past maxmemory. allow-cross-slot-keys
-- keeps what scripts without the line may do.
-- book: turn a live lock into a confirmed booking, or (admin, no lock) book
-- a free interval. All checks and writes happen here, in one script on the
-- resource's hash slot, so two bookings can never overlap.
-- KEYS: lock key, day lock index, day bookings, stats, live-lock set, done
--       key of the lockId, new appointment record, appointment id index,
--       the resource's settings, its event stream, and the lockId index
--       (in Redis Cluster only when it is on this slot).
-- ARGV: lockId ('' for an admin booking without a lock), appointment JSON,
--       start minute, duration, lock key prefix of the day, expected lock
--       fields as JSON, seconds to remember the lockId's booking, '1' for a
--       late booking (ifStillFree: the hold may be gone; then the interval
--       is booked when nothing overlaps it), else ''.
local lock_key, index_key, booked_key, stats_key, live_key, done_key,
      appt_key, apptid_key, settings_key, lockid =
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8],
    KEYS[9], KEYS[11]
local events_key = KEYS[10]
local lock_id = ARGV[1]
local s, d = tonumber(ARGV[3]), tonumber(ARGV[4])
local set = resource_settings(settings_key)
local g = set.before + set.after

-- In Redis Cluster the counters are the resource's own: a refusal is
-- counted only where they exist, so that bookings naming made-up resources
-- leave no key behind.
local function reject(reason, extra)
    if SHARED or redis.call('EXISTS', stats_key) == 1 then
        redis.call('HINCRBY', stats_key, 'bookingsRejected', 1)
    end
    return fail(reason, extra)
end

-- Refuses [s, s+d) when it does not fit: met by a booking or a live lock
-- (capacity 1), or with every place taken at one of its minutes.
local function refusal()
    if set.shared then
        local taken, booked, locks = places_taken(index_key, booked_key,
            ARGV[5], s, d, set, now_ms())
        if taken < set.capacity then
            return nil
        elseif set.capacity > 1 then
            return reject('slot_full')
        elseif booked then
            return reject('slot_booked')
        end
        return reject('slot_locked', { remainingTTL = locks[1].pttl })
    end
    if booked_overlap(booked_key, s, d, g) then
        return reject('slot_booked')
    end
    local held = lock_overlap(index_key, ARGV[5], s, d, nil, g)
    if held then
        return reject('slot_locked', { remainingTTL = held.pttl })
    end
    return nil
end

-- True when a retry's record names the same customer and slot as the
-- stored booking.
local function same_booking(stored, retry)
    for _, field in ipairs({ 'tenantId', 'specialistId', 'date', 'startTime',
                             'duration', 'customerName', 'customerEmail',
                             'customerPhone' }) do
        if stored[field] ~= retry[field] then
            return false
        end
    end
    return true
end

-- Our own earlier run? The appointment id is made before the first
-- attempt and sent again unchanged when its reply was lost: a booking
-- stored under it was made by that run, and is answered as created.
if lock_id == '' then
    local mine = redis.call('GET', appt_key)
    if mine then
        -- A write, so that a WAIT after this script covers the booking.
        redis.call('SET', apptid_key, appt_key)
        return '{"ok":true,"created":true,"holderId":false,"appointment":'
               .. mine .. '}'
    end
end

local lock, late
if lock_id ~= '' then
    -- A retry of a booking that went through gets the same appointment,
    -- but only when it names the same customer and slot: the lockId alone
    -- must not hand out someone's name, e-mail and phone. It is answered
    -- as created when the lockId's record names this request's own id.
    local done = redis.call('GET', done_key)
    local stored = done and redis.call('GET', done)
    if stored and not same_booking(cjson.decode(stored),
                                   cjson.decode(ARGV[2])) then
        return reject('lock_used')
    end
    if stored then
        -- Renewing the record is a write: a WAIT after this script then
        -- covers the booking too, however long ago it was made.
        redis.call('EXPIRE', done_key, tonumber(ARGV[7]))
        return '{"ok":true,"created":' .. tostring(done == appt_key)
               .. ',"holderId":false,"appointment":' .. stored .. '}'
    end
    local key
    lock, key = lock_by_id(lock_key, lockid, lock_id)
    if (not lock or lock.opaque) and ARGV[8] == '1' then
        -- The hold is gone, but the site's server books late when the
        -- interval is still free (its payment went through).
        lock, late = nil, true
    elseif not lock or lock.opaque then
        return reject('lock_expired')
    elseif key ~= lock_key and key ~= seat_key(lock_key, lock_id)
           or not lock_matches(lock, ARGV[6]) then
        return reject('lock_mismatch')
    end
    lock_key = key or lock_key
    if late then
        local no = refusal()
        if no then
            return no
        end
    elseif not set.shared and booked_overlap(booked_key, s, d, g) then
        -- A live hold already has its place where holds may overlap.
        return reject('slot_booked')
    end
else
    local no = refusal()
    if no then
        return no
    end
end

local now = now_ms()
local appt = cjson.decode(ARGV[2])
-- The record is stored as the app wrote it, with status and createdAt
-- added as text: decoding and encoding it again would round its numbers
-- (cjson keeps 14 significant digits; a price keeps 15).
local raw = string.sub(ARGV[2], 1, -2)
            .. ',"status":"confirmed","createdAt":' .. now
            .. (lock and lock.fence and (',"fence":' .. lock.fence) or '')
            .. '}'
redis.call('SET', appt_key, raw)
redis.call('SET', apptid_key, appt_key)
redis.call('ZADD', booked_key, s, s .. '/' .. d .. '/' .. appt.id)
note_duration(settings_key, set, d)
if lock or late then
    redis.call('SET', done_key, appt_key, 'EX', tonumber(ARGV[7]))
end
if lock then
    remove_lock(lock, lock_key, lockid, live_key, stats_key, now)
end
redis.call('HINCRBY', stats_key, 'bookingsCreated', 1)
booking_event(events_key, live_key, 'booking.created', appt, lock)
-- holderId: the caller drops the lock from the holder index in a cluster.
return '{"ok":true,"created":true,"lateBooking":' .. tostring(late == true)
       .. ',"holderId":'
       .. cjson.encode(lock and lock.holderId or false)
       .. ',"clientAddr":' .. cjson.encode(lock and lock.clientAddr or false)
       .. ',"appointment":' .. raw .. '}'
