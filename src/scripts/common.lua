-- common.lua: helpers every slotlock script starts with (prepended at build
-- time). Each script returns one JSON object: {"ok":true,...} or
-- {"err":"<reason>",...}.
--
-- A lock is a string key booking_lock:{t|r}:<date>:<HH:MM> whose value is
-- the lock as JSON and whose TTL is its remaining life. Beside it, under the
-- same hash tag: booking_locks:{t|r}:<date>, the day's index of locks, and
-- booking_booked:{t|r}:<date>, the day's confirmed bookings as
-- "<start>/<duration>/<id>" members scored by start minute. Every key name
-- is made by the C side (src/keys.c) and passed in KEYS, except these,
-- which a script derives from a lock it has read (it cannot know them
-- before): the lock's day index (lock_index_key), its lockId index
-- (lockid_key) and its holder's set (holder_key), all of the formats
-- keys.c documents.
--
-- The day index carries what an overlap check needs, so that no check
-- reads every lock of the day. Its members are
-- "<start>/<duration>/<expiresAt>/<lockId>" (start and duration in minutes,
-- four digits; expiresAt in epoch ms, the lock key's own PEXPIRETIME),
-- scored by start minute; a refresh moves the member's expiresAt, a
-- release, booking or force-release removes it. Its entries never overlap
-- one another: an acquire adds one only after every entry overlapping it
-- was found gone and removed. So, sorted by start, they are sorted by end
-- too, and the entries that overlap [s, s+d) are the last one starting
-- before s and those starting in [s, s+d): two ZRANGEBYSCOREs, O(log n + k)
-- for the k entries the interval meets. Only those k are checked against
-- their lock key (GET: the key still holds that lockId), so a lock DEL'd by
-- hand stops blocking at once, and an entry found expired or gone is
-- removed on the way. Confirmed bookings never overlap one another either,
-- and are found the same way. A status reads neither the index nor a lock
-- key but the day's lock maps (below), kept beside the index with the same
-- intervals and expiries: it trusts their expiresAt, so a lock DEL'd by
-- hand still shows there until an acquire or booking over its interval
-- removes it, or its expiresAt passes. A value not written by slotlock is not
-- in the index: it is an opaque lock of its own key's start time only.
-- Members "HH:MM" (the index before it carried intervals) are still read,
-- through their lock key.
--
-- The first argument of every script says where it runs, and is taken off
-- here, so each script's own arguments start at ARGV[1]:
--   'shared': one Redis. The script may keep the keys outside the hash tag
--             too (the lockId and appointment-id indexes, the holder sets,
--             the shared counters slotlock:stats and slotlock:live).
--   'slot':   Redis Cluster. The script touches only what KEYS names, all on
--             one slot: an index key is passed only when it lies there, the
--             counters are the resource's own (booking_stats:{t|r}), and
--             the caller keeps the holder sets.
local SHARED = table.remove(ARGV, 1) == 'shared'

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function overlaps(s1, d1, s2, d2)
    return s1 < s2 + d2 and s2 < s1 + d1
end

-- A lock's value as a table. A value not written by slotlock (by hand,
-- with redis-cli) is an opaque lock: its lockId is the value itself, or
-- the value's lockId when it is JSON with one; it lasts its own duration
-- when it has one, else one minute; it has no holder and is in no index.
local function decode_lock(raw)
    local ok, lock = pcall(cjson.decode, raw)
    if ok and type(lock) == 'table' and type(lock.lockId) == 'string'
       and type(lock.tenantId) == 'string'
       and type(lock.resourceId) == 'string'
       and type(lock.date) == 'string' and type(lock.startTime) == 'string'
       and type(lock.duration) == 'number' then
        return lock
    end
    local opaque = { lockId = raw, duration = 1, opaque = true }
    if ok and type(lock) == 'table' then
        opaque.lockId = type(lock.lockId) == 'string' and lock.lockId or nil
        opaque.duration = type(lock.duration) == 'number' and lock.duration
                          or 1
    end
    return opaque
end

-- The lock stored at key as a table, or nil when there is none.
local function read_lock(key)
    local raw = redis.call('GET', key)
    return raw and decode_lock(raw) or nil
end

local function max_pexpire(key, ms)
    if redis.call('PTTL', key) < ms then
        redis.call('PEXPIRE', key, ms)
    end
end

local function lockid_key(lock_id)
    return 'booking_lockid:' .. lock_id
end

local function holder_key(lock)
    return 'booking_holder:{' .. lock.tenantId .. '}:' .. lock.holderId
end

-- The live locks of one client address in a tenant (keys_client).
local function client_key(lock)
    return 'booking_client:{' .. lock.tenantId .. '}:' .. lock.clientAddr
end

-- How many live locks the set at key holds, after dropping those that ran
-- out.
local function live_count(key, now)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    return redis.call('ZCARD', key)
end

local function hhmm(m)
    return string.format('%02d:%02d', math.floor(m / 60), m % 60)
end

local function minute_of(hh_mm)
    return tonumber(string.sub(hh_mm, 1, 2)) * 60
           + tonumber(string.sub(hh_mm, 4, 5))
end

-- The day-index member of a lock that ends at expires_at.
local function index_member(start, duration, expires_at, lock_id)
    return string.format('%04d/%04d/%d/%s', start, duration, expires_at,
                         lock_id)
end

-- A day-index member as { start =, duration =, expires_at =, lock_id = };
-- an "HH:MM" member of the older index is read from its lock key.
local function index_entry(key_prefix, member, score)
    local s, d, e, id = string.match(member, '^(%d+)/(%d+)/(%d+)/(.+)$')
    if s then
        return { start = tonumber(s), duration = tonumber(d),
                 expires_at = tonumber(e), lock_id = id, member = member }
    end
    local key = key_prefix .. member
    local lock = read_lock(key)
    if not lock or lock.opaque then
        return { start = score, duration = 1, expires_at = 0,
                 member = member }
    end
    return { start = score, duration = lock.duration, lock_id = lock.lockId,
             expires_at = redis.call('PEXPIRETIME', key), member = member }
end

-- booking_lockmap:{t|r}:<date>:<HH>, beside the day index: the locks that
-- start in hour HH as text for the status route, one 9-character record
-- per start minute (at offset minute-in-the-hour * 9): '.' * 9 for none,
-- else the duration (2 digits) and expiresAt (7 digits), in base 64 with
-- the digits MAP_DIGITS, most significant first. A status reads the day's
-- 24 with one MGET; short records and strings per hour keep what it reads
-- small, and a day with a few locks keeps a few short strings.
local MAP_RECORD = 9
local MAP_DIGITS =
    '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_'

-- On a resource of capacity above 1 several holds may start at one
-- minute: the first takes the start time's lock key, each further one a
-- key of its own, the lock key with "+<lockId>" after it. Such a hold has
-- no lock map record (one per start minute): a status of such a resource
-- reads the day index instead.
local function seat_key(lock_key, lock_id)
    return lock_key .. '+' .. lock_id
end

local function is_seat(key, lock)
    return lock.lockId ~= nil
           and string.sub(key, -#lock.lockId - 1) == '+' .. lock.lockId
end

local function lock_map_key(index_key, start)
    return string.format('booking_lockmap:%s:%02d',
                         string.sub(index_key, #'booking_locks:' + 1),
                         math.floor(start / 60))
end

-- Writes the record of start minute start; the map is made (padded with
-- empty records) only when create is true.
local function map_put(index_key, start, record, create)
    local key = lock_map_key(index_key, start)
    local at = (start % 60) * MAP_RECORD
    local len = redis.call('STRLEN', key)
    if len == 0 and not create or at >= len and record == nil then
        return key
    end
    record = record or string.rep('.', MAP_RECORD)
    if at > len then
        record = string.rep('.', at - len) .. record
        at = len
    end
    redis.call('SETRANGE', key, at, record)
    return key
end

local function map_record(duration, expires_at)
    local digits, n = {}, duration * 64 ^ 7 + expires_at
    for i = MAP_RECORD, 1, -1 do
        local d = n % 64
        digits[i] = string.sub(MAP_DIGITS, d + 1, d + 1)
        n = (n - d) / 64
    end
    return table.concat(digits)
end

-- The live lock an index entry stands for, as { start =, lock =, key =,
-- pttl = }, or nil after removing the entry when its lock expired or its
-- key no longer holds its lockId (DEL'd or overwritten by hand).
local function entry_lock(index_key, key_prefix, e, now)
    local key = key_prefix .. hhmm(e.start)
    local live = e.expires_at > now
    local raw = live and redis.call('GET', key)
    if live and not (raw and string.find(raw, e.lock_id, 1, true)) then
        -- Another hold at the same start minute (capacity above 1).
        key = seat_key(key, e.lock_id)
        raw = redis.call('GET', key)
    end
    if raw and string.find(raw, e.lock_id, 1, true) then
        local pttl = redis.call('PTTL', key)
        if pttl > 0 then
            return { start = e.start, lock = decode_lock(raw), key = key,
                     pttl = pttl }
        end
    end
    redis.call('ZREM', index_key, e.member)
    map_put(index_key, e.start, nil)
    return nil
end

-- The members of a zset whose intervals never overlap one another that
-- may overlap [s, s+d): the last one starting before s, then those
-- starting in [s, s+d), as a flat member, score list.
local function candidates(key, s, d)
    local out = redis.call('ZREVRANGEBYSCORE', key, '(' .. s, '-inf',
                           'WITHSCORES', 'LIMIT', 0, 1)
    local after = redis.call('ZRANGEBYSCORE', key, s, '(' .. (s + d),
                             'WITHSCORES')
    for i = 1, #after do
        out[#out + 1] = after[i]
    end
    return out
end

-- Buffers: two intervals meet when they overlap once each is widened by
-- bufferBefore at its start and bufferAfter at its end, that is when
-- [s1, e1 + g) and [s2, e2 + g) overlap, g the sum of both buffers. With
-- capacity 1 the stored intervals still never overlap one another (a
-- buffered check refuses more than a bare one), so the entries that may
-- meet [s, s+d) are the last one starting before s - g and those starting
-- in [s - g, s + d + g).

-- The first live lock that meets [s, s+d) with the gap g (0 when nil), or
-- nil. Entries met that are gone are removed. now: the script's clock,
-- when it read it already.
local function lock_overlap(index_key, key_prefix, s, d, now, g)
    g = g or 0
    local members = candidates(index_key, s - g, d + 2 * g)
    now = #members > 0 and (now or now_ms())
    for i = 1, #members, 2 do
        local e = index_entry(key_prefix, members[i],
                              tonumber(members[i + 1]))
        if overlaps(s, d + g, e.start, e.duration + g) then
            local l = entry_lock(index_key, key_prefix, e, now)
            if l then
                return l
            end
        end
    end
    return nil
end

local function parse_booked(member)
    local s, d, id = string.match(member, '^(%d+)/(%d+)/(.+)$')
    return tonumber(s), tonumber(d), id
end

-- The first confirmed booking that meets [s, s+d) with the gap g (0 when
-- nil), as its member, or nil.
local function booked_overlap(booked_key, s, d, g)
    g = g or 0
    local members = candidates(booked_key, s - g, d + 2 * g)
    for i = 1, #members, 2 do
        local bs, bd = parse_booked(members[i])
        if bs and overlaps(s, d + g, bs, bd + g) then
            return members[i]
        end
    end
    return nil
end

-- Capacity: on a resource whose holds may overlap (settings.shared: its
-- capacity is or was above 1) an interval fits while, at each of its
-- minutes, fewer than capacity holds and bookings meet it. The entries
-- that may meet [s, s+d) start in (s - longest - g, s + d + g), longest
-- the longest duration held or booked on the resource: two range
-- queries, and O(k + d + g) for the k entries found there, at most
-- capacity per minute of that window. A hold counts by its index entry's
-- expiresAt; only when that leaves no place free are the holds' keys
-- checked (a lock DEL'd by hand frees its place), with one MGET per
-- thousand, the entries found gone removed, and the places counted again.
-- Returns the most places taken at one minute, the first booking met (its
-- member) and, with capacity 1, the live locks met as entry_lock answers
-- them.
local function places_taken(index_key, booked_key, key_prefix, s, d, set,
                            now)
    local g = set.before + set.after
    local lo, hi = '(' .. (s - set.longest - g), '(' .. (s + d + g)
    local width = d + g
    local booked, spans, entries = nil, {}, {}
    local function add(list, start, duration)
        list[#list + 1] = math.max(start, s) - s
        list[#list + 1] = math.min(start + duration + g, s + width) - s
    end
    local function most(lists)
        local diff, n, top = {}, 0, 0
        for _, list in ipairs(lists) do
            for i = 1, #list, 2 do
                diff[list[i]] = (diff[list[i]] or 0) + 1
                diff[list[i + 1]] = (diff[list[i + 1]] or 0) - 1
            end
        end
        for m = 0, width - 1 do
            n = n + (diff[m] or 0)
            if n > top then
                top = n
            end
        end
        return top
    end
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', booked_key, lo, hi)) do
        local bs, bd = parse_booked(m)
        if bs and overlaps(s, width, bs, bd + g) then
            add(spans, bs, bd)
            booked = booked or m
        end
    end
    local held = {}
    local members = redis.call('ZRANGEBYSCORE', index_key, lo, hi,
                               'WITHSCORES')
    for i = 1, #members, 2 do
        local e = index_entry(key_prefix, members[i],
                              tonumber(members[i + 1]))
        if e.expires_at <= now then
            entry_lock(index_key, key_prefix, e, now)
        elseif overlaps(s, width, e.start, e.duration + g) then
            entries[#entries + 1] = e
            add(held, e.start, e.duration)
        end
    end
    local taken = most({ spans, held })
    if taken < set.capacity then
        return taken, booked, {}
    end
    local locks = {}
    held = {}
    if set.capacity == 1 then
        for _, e in ipairs(entries) do
            local l = entry_lock(index_key, key_prefix, e, now)
            if l then
                locks[#locks + 1] = l
                add(held, e.start, e.duration)
            end
        end
        return most({ spans, held }), booked, locks
    end
    -- Each hold is on its start time's own key or on its seat key: the
    -- first are read once per start minute, the others in one MGET.
    local starts, base, seats = {}, {}, {}
    for _, e in ipairs(entries) do
        if base[e.start] == nil then
            base[e.start] = false
            starts[#starts + 1] = e.start
        end
    end
    local function mget(keys, from, to)
        return redis.call('MGET', unpack(keys, from, to))
    end
    local function read_all(keys)
        local out = {}
        for from = 1, #keys, 1000 do
            local got = mget(keys, from, math.min(from + 999, #keys))
            for i = 1, #got do
                out[from + i - 1] = got[i]
            end
        end
        return out
    end
    local keys = {}
    for i, start in ipairs(starts) do
        keys[i] = key_prefix .. hhmm(start)
    end
    for i, raw in pairs(read_all(keys)) do
        base[starts[i]] = raw
    end
    local names = {}
    for i, start in ipairs(starts) do
        names[start] = keys[i]
    end
    keys = {}
    for _, e in ipairs(entries) do
        local raw = base[e.start]
        if not e.lock_id then
            -- An entry of the older index, read from its lock key.
            if entry_lock(index_key, key_prefix, e, now) then
                add(held, e.start, e.duration)
            end
        elseif not (raw and string.find(raw, e.lock_id, 1, true)) then
            seats[#seats + 1] = e
            keys[#keys + 1] = seat_key(names[e.start], e.lock_id)
        else
            add(held, e.start, e.duration)
        end
    end
    local got = read_all(keys)
    for i, e in ipairs(seats) do
        local raw = got[i]
        if raw and string.find(raw, e.lock_id, 1, true) then
            add(held, e.start, e.duration)
        else
            redis.call('ZREM', index_key, e.member)
        end
    end
    return most({ spans, held }), booked, locks
end

-- The lock key that lockid_key points at; the caller still compares the
-- lockId stored there.
local function lock_by_id(lock_key, lockid_key, lock_id)
    if lock_key ~= '' then
        local lock = read_lock(lock_key)
        if lock and lock.lockId == lock_id then
            return lock, lock_key
        end
    end
    local key = lockid_key and redis.call('GET', lockid_key)
    if key then
        local lock = read_lock(key)
        if lock and lock.lockId == lock_id then
            return lock, key
        end
    end
    return nil
end

-- True when every field given in expected (a JSON object) equals the lock's.
local function lock_matches(lock, expected_json)
    if expected_json == '' then
        return true
    end
    for k, v in pairs(cjson.decode(expected_json)) do
        if lock[k] ~= v then
            return false
        end
    end
    return true
end

-- How many of a holder's locks are live, counting up to cap: the lockIds
-- in its set that have not run out and whose lock key still holds them (a
-- lock DEL'd by hand frees its place). Below the cap nothing is checked.
local function holder_count(hkey, now, cap)
    redis.call('ZREMRANGEBYSCORE', hkey, '-inf', now)
    local n = redis.call('ZCARD', hkey)
    if n < cap then
        return n
    end
    local live = 0
    for _, id in ipairs(redis.call('ZRANGE', hkey, 0, -1)) do
        local key = redis.call('GET', lockid_key(id))
        local raw = key and redis.call('GET', key)
        if raw and string.find(raw, id, 1, true) then
            live = live + 1
            if live >= cap then
                break
            end
        else
            redis.call('ZREM', hkey, id)
        end
    end
    return live
end

local function lock_index_key(lock)
    return 'booking_locks:{' .. lock.tenantId .. '|' .. lock.resourceId
           .. '}:' .. lock.date
end

-- Removes a lock's entry from its day index.
local function index_remove(lock)
    local index_key, s = lock_index_key(lock), minute_of(lock.startTime)
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', index_key, s, s)) do
        if m == lock.startTime
           or string.sub(m, -#lock.lockId - 1) == '/' .. lock.lockId then
            redis.call('ZREM', index_key, m)
        end
    end
end

-- Moves a lock's end to expires_at (epoch ms), with its indexes.
local function set_lock_expiry(lock, key, lockid_key, live_key, stats_key,
                               expires_at)
    redis.call('PEXPIREAT', key, expires_at)
    index_remove(lock)
    local s = minute_of(lock.startTime)
    redis.call('ZADD', lock_index_key(lock), s,
               index_member(s, lock.duration, expires_at, lock.lockId))
    if not is_seat(key, lock) then
        map_put(lock_index_key(lock), s,
                map_record(lock.duration, expires_at))
    end
    redis.call('ZADD', live_key, expires_at, lock.lockId)
    if lockid_key then
        redis.call('PEXPIREAT', lockid_key, expires_at)
    end
    if lock.holderId and SHARED then
        redis.call('ZADD', holder_key(lock), expires_at, lock.lockId)
    end
    if lock.clientAddr and SHARED then
        redis.call('ZADD', client_key(lock), expires_at, lock.lockId)
    end
end

-- Removes a lock and every index entry that points at it, and counts how
-- long it was held.
local function remove_lock(lock, key, lockid_key, live_key, stats_key, now)
    redis.call('DEL', key)
    if lockid_key and not lock.opaque then
        redis.call('DEL', lockid_key)
    end
    if not lock.opaque then
        index_remove(lock)
        if not is_seat(key, lock) then
            map_put(lock_index_key(lock), minute_of(lock.startTime), nil)
        end
        redis.call('ZREM', live_key, lock.lockId)
        if lock.holderId and SHARED then
            redis.call('ZREM', holder_key(lock), lock.lockId)
        end
        if lock.clientAddr and SHARED then
            redis.call('ZREM', client_key(lock), lock.lockId)
        end
        redis.call('HINCRBY', stats_key, 'lockDurationTotal',
                   now - lock.acquiredAt)
        redis.call('HINCRBY', stats_key, 'lockDurationCount', 1)
    end
end

-- The answer of acquire, refresh and checkout. tenantId, holderId and
-- clientAddr are for the caller's holder and address sets in Redis
-- Cluster.
local function lock_answer(lock, now, expires_at)
    return cjson.encode({ ok = true, lockId = lock.lockId,
                          expiresIn = expires_at - now,
                          expiresAt = expires_at, serverTime = now,
                          fence = lock.fence,
                          tenantId = lock.tenantId, holderId = lock.holderId,
                          clientAddr = lock.clientAddr })
end

-- The answer of a route that removed a lock, with what the caller needs to
-- drop it from the holder index in Redis Cluster.
local function removed_answer(lock)
    return cjson.encode({ ok = true, lockId = lock.lockId,
                          tenantId = lock.tenantId, holderId = lock.holderId,
                          clientAddr = lock.clientAddr })
end

-- A resource's settings (booking_resource:{t|r}), the defaults for what is
-- not stored or not a number in range (a hand edit): capacity 1 to 1000,
-- buffers 0 to 240 minutes. Beside them the scripts keep longest, the
-- longest duration held or booked there since settings were first stored
-- (a resource without settings gets no key), and shared, set once the
-- capacity was above 1 (its holds may overlap from then on, whatever the
-- capacity becomes).
local function resource_settings(key)
    local function setting(raw, default, low, high)
        local n = tonumber(raw)
        if not n or n ~= math.floor(n) or n < low or n > high then
            return default
        end
        return n
    end
    local raw = redis.call('HMGET', key, 'capacity', 'bufferBefore',
                           'bufferAfter', 'longest', 'shared')
    return { capacity = setting(raw[1], 1, 1, 1000),
             before = setting(raw[2], 0, 0, 240),
             after = setting(raw[3], 0, 0, 240),
             longest = setting(raw[4], 0, 0, 1440),
             shared = raw[5] == '1',
             stored = (raw[1] or raw[2] or raw[3]) and true or false }
end

-- Keeps the settings' longest at least d, when they are stored.
local function note_duration(key, set, d)
    if set.stored and set.longest < d then
        redis.call('HSET', key, 'longest', d)
    end
end

local function fail(reason, extra)
    local out = extra or {}
    out.err = reason
    return cjson.encode(out)
end

-- ---------------------------------------------------------------------
-- Events
-- ---------------------------------------------------------------------
-- The outbox: the script that changes a hold or a booking appends its
-- event, in the same atomic call, to booking_events:{t|r}, the resource's
-- stream (on the resource's own slot). Each entry has one field, event:
-- the event as compact JSON. See docs/events.md for the catalogue.
--
-- The C side sends two more arguments after the scope word, taken off
-- here like it: the stream's length cap (MAXLEN ~, 0 for none) and its
-- retention in ms (MINID ~ of now minus it, 0 for none).
local EVENTS_MAXLEN = tonumber(table.remove(ARGV, 1)) or 0
local EVENTS_RETENTION = tonumber(table.remove(ARGV, 1)) or 0

-- A hold that runs out has no lock key left to read, so what its
-- hold.expired needs is kept beside the live-lock set, in the hash
-- slotlock:holds (one Redis) or booking_holds:{t|r} (Redis Cluster):
-- lockId -> the hold's event fields as JSON, written when the hold is
-- made or changes state, removed with the lock or when its expiry is
-- reported.
local function holds_key(live_key)
    if string.sub(live_key, 1, #'booking_live:') == 'booking_live:' then
        return 'booking_holds:' .. string.sub(live_key, #'booking_live:' + 1)
    end
    return 'slotlock:holds'
end

local function events_key_of(fields)
    return 'booking_events:{' .. fields.tenantId .. '|' .. fields.resourceId
           .. '}'
end

-- Epoch ms as ISO 8601 in UTC with ms (days to a civil date after Howard
-- Hinnant's civil_from_days).
local function iso_time(ms)
    local floor = math.floor
    local secs = floor(ms / 1000)
    local days = floor(secs / 86400)
    local rem = secs - days * 86400
    local z = days + 719468
    local era = floor(z / 146097)
    local doe = z - era * 146097
    local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524)
                       - floor(doe / 146096)) / 365)
    local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
    local mp = floor((5 * doy + 2) / 153)
    local month = mp < 10 and mp + 3 or mp - 9
    return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ',
                         yoe + era * 400 + (month <= 2 and 1 or 0), month,
                         doy - floor((153 * mp + 2) / 5) + 1,
                         floor(rem / 3600), floor(rem % 3600 / 60), rem % 60,
                         ms % 1000)
end

-- Appends one event and returns its JSON. events_key '' (one Redis, when
-- the request named only a lockId) is the stream of the resource the
-- fields name. id: the event's id, made of the id of what changed and the
-- event's type (see docs/events.md), so that it is unique and the same on
-- every delivery. now: the script's clock when it has read it already.
local function emit(events_key, type, fields, id, now)
    now = now or now_ms()
    if events_key == nil or events_key == '' then
        events_key = events_key_of(fields)
    end
    fields.id, fields.type, fields.createdAt = id, type, iso_time(now)
    local json = cjson.encode(fields)
    if EVENTS_MAXLEN > 0 then
        redis.call('XADD', events_key, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
                   'event', json)
    else
        redis.call('XADD', events_key, '*', 'event', json)
    end
    if EVENTS_RETENTION > 0 then
        redis.call('XTRIM', events_key, 'MINID', '~',
                   math.max(0, now - EVENTS_RETENTION))
    end
    return json
end

-- What an event says of a hold: never its client address.
local function hold_fields(lock)
    return { tenantId = lock.tenantId, resourceId = lock.resourceId,
             date = lock.date, startTime = lock.startTime,
             duration = lock.duration, lockId = lock.lockId,
             holderId = lock.holderId, fence = lock.fence }
end

-- The event of a change to a hold (lock as read or just made; a value
-- written by hand outside slotlock is no hold and has none). expires_at:
-- its new end (epoch ms), for acquired, refreshed and checkout; n: what
-- makes a refresh's id unique (the resource's refresh counter); now: the
-- script's clock, when read. Acquire and checkout keep their event as
-- what hold.expired will need (holds_key); a release drops it.
local function hold_event(events_key, live_key, type, lock, expires_at, n,
                          now)
    if lock.opaque then
        return
    end
    local fields = hold_fields(lock)
    if type == 'hold.checkout' then
        fields.state = 'checkout'
    elseif type == 'hold.released' or type == 'hold.force_released' then
        redis.call('HDEL', holds_key(live_key), lock.lockId)
    end
    fields.expiresAt = expires_at
    local json = emit(events_key, type, fields,
                      lock.lockId .. ':' .. type .. (n and (':' .. n) or ''),
                      now)
    if type == 'hold.acquired' or type == 'hold.checkout' then
        redis.call('HSET', holds_key(live_key), lock.lockId, json)
    end
end

-- Reports the holds in the live-lock set that ran out before now (at most
-- limit, nil for all), as hold.expired, and counts them in locksExpired;
-- whoever removes an expired entry reports it, so each is reported once.
-- Returns how many, and whether more are left.
local function expire_holds(live_key, stats_key, now, limit)
    local ids = limit
                and redis.call('ZRANGEBYSCORE', live_key, '-inf', '(' .. now,
                               'LIMIT', 0, limit)
                or redis.call('ZRANGEBYSCORE', live_key, '-inf', '(' .. now)
    if #ids == 0 then
        return 0, false
    end
    local hkey = holds_key(live_key)
    for _, id in ipairs(ids) do
        local raw = redis.call('HGET', hkey, id)
        local ok, hold = pcall(cjson.decode, raw or '')
        if ok and type(hold) == 'table' and type(hold.tenantId) == 'string'
           and type(hold.resourceId) == 'string' then
            hold.state, hold.expiresAt = hold.state or 'held', nil
            emit(nil, 'hold.expired', hold, id .. ':hold.expired', now)
        end
        redis.call('HDEL', hkey, id)
        redis.call('ZREM', live_key, id)
    end
    redis.call('HINCRBY', stats_key, 'locksExpired', #ids)
    return #ids, limit ~= nil and #ids >= limit
end

-- The event of a booking: the appointment's own fields and its hold's,
-- never the customer's. A booking made from a hold drops what
-- hold.expired would have needed.
local function booking_event(events_key, live_key, type, appt, lock)
    if lock and not lock.opaque then
        redis.call('HDEL', holds_key(live_key), lock.lockId)
    end
    local fields = { tenantId = appt.tenantId, resourceId = appt.specialistId,
                     date = appt.date, startTime = appt.startTime,
                     duration = appt.duration, appointmentId = appt.id,
                     lockId = appt.lockId, fence = appt.fence }
    if lock then
        fields.holderId, fields.fence = lock.holderId, lock.fence
    end
    emit(events_key, type, fields, appt.id .. ':' .. type)
end
