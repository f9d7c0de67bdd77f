-- common.lua: helpers every slotlock script starts with (prepended at build
-- time). Each script returns one JSON object: {"ok":true,...} or
-- {"err":"<reason>",...}.
--
-- A lock is a string key booking_lock:{t|r}:<date>:<HH:MM> whose value is
-- the lock as JSON and whose TTL is its remaining life. Beside it, under the
-- same hash tag: booking_locks:{t|r}:<date>, a sorted set of the start times
-- of that day's locks (score: start minute), and booking_booked:{t|r}:<date>,
-- the day's confirmed bookings as "<start>/<duration>/<id>" members. Every
-- key name is made by the C side (src/keys.c) and passed in KEYS, except
-- these, which a script derives from a lock it has read (it cannot know
-- them before): the lock's day index (lock_index_key), its lockId index
-- (lockid_key) and its holder's set (holder_key), all of the formats
-- keys.c documents.
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

-- The lock stored at key as a table, or nil when there is none. A value
-- written by hand that is not our JSON is kept as an opaque one-minute lock.
local function read_lock(key)
    local raw = redis.call('GET', key)
    if not raw then
        return nil
    end
    local ok, lock = pcall(cjson.decode, raw)
    if not ok or type(lock) ~= 'table' or type(lock.duration) ~= 'number' then
        return { lockId = raw, duration = 1, opaque = true }
    end
    return lock
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

-- Live locks of one day that start in [from_min, until_min), as
-- { start =, lock =, key =, pttl = }. Index entries whose lock is gone
-- (expired, or deleted by hand with DEL) are dropped on the way.
local function live_locks(index_key, key_prefix, from_min, until_min)
    local out = {}
    local members = redis.call('ZRANGEBYSCORE', index_key, from_min,
                               '(' .. until_min, 'WITHSCORES')
    for i = 1, #members, 2 do
        local key = key_prefix .. members[i]
        local lock = read_lock(key)
        local pttl = lock and redis.call('PTTL', key) or -2
        if lock and pttl > 0 then
            out[#out + 1] = { start = tonumber(members[i + 1]), lock = lock,
                              key = key, pttl = pttl }
        else
            redis.call('ZREM', index_key, members[i])
        end
    end
    return out
end

-- The first live lock that overlaps [s, s+d), or nil.
local function lock_overlap(index_key, key_prefix, s, d)
    for _, l in ipairs(live_locks(index_key, key_prefix, s - 1440, s + d)) do
        if overlaps(s, d, l.start, l.lock.duration) then
            return l
        end
    end
    return nil
end

local function parse_booked(member)
    local s, d, id = string.match(member, '^(%d+)/(%d+)/(.+)$')
    return tonumber(s), tonumber(d), id
end

-- The first confirmed booking that overlaps [s, s+d), as its member, or nil.
local function booked_overlap(booked_key, s, d)
    local members = redis.call('ZRANGEBYSCORE', booked_key, s - 1440,
                               '(' .. (s + d))
    for _, m in ipairs(members) do
        local bs, bd = parse_booked(m)
        if bs and overlaps(s, d, bs, bd) then
            return m
        end
    end
    return nil
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

local function lock_index_key(lock)
    return 'booking_locks:{' .. lock.tenantId .. '|' .. lock.resourceId
           .. '}:' .. lock.date
end

-- Moves a lock's end to expires_at (epoch ms), with its indexes.
local function set_lock_expiry(lock, key, lockid_key, live_key, stats_key,
                               expires_at)
    redis.call('PEXPIREAT', key, expires_at)
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
    if lockid_key then
        redis.call('DEL', lockid_key)
    end
    if not lock.opaque then
        redis.call('ZREM', lock_index_key(lock), lock.startTime)
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
-- buffers 0 to 240 minutes.
local function resource_settings(key)
    local function setting(raw, default, low, high)
        local n = tonumber(raw)
        if not n or n ~= math.floor(n) or n < low or n > high then
            return default
        end
        return n
    end
    local raw = redis.call('HMGET', key, 'capacity', 'bufferBefore',
                           'bufferAfter')
    return { capacity = setting(raw[1], 1, 1, 1000),
             before = setting(raw[2], 0, 0, 240),
             after = setting(raw[3], 0, 0, 240) }
end

local function fail(reason, extra)
    local out = extra or {}
    out.err = reason
    return cjson.encode(out)
end
