-- preload.lua: a Redis script (not a wrk one) that script/bench --scale runs
-- with EVAL to fill Redis with live locks quickly, written exactly as
-- src/scripts/acquire.lua writes them: the lock, its lockId index entry,
-- the day's index ("<start>/<duration>/<expiresAt>/<lockId>" by start
-- minute), the lock map of its hour (a 9-character record per start
-- minute, see common.lua) and the live-lock set. Lock i is the slot that common.lua's
-- slot(n) gives wrk thread tid, with n = floor(i / 2)
-- and tid = i % 2, so that status.lua can read those days back.
--
-- KEYS: the live-lock set with one Redis; none for Redis Cluster.
-- ARGV: salt, first i, count, ttl ms.
-- The lock keys are not declared, which only works on one server, for
-- tests. For a cluster (no KEYS) it runs on every primary, and each writes
-- the keys of the slots it serves only, in the cluster's layout (a live-lock
-- set per resource, booking_live:{t|r}), so that together they hold every
-- lock once. Returns the number of locks written on this server.
local DIGITS =
    '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_'
local live, salt = KEYS[1], ARGV[1]
local first, count, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]),
                          tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cluster = live == nil
local mine = {}
if cluster then
    local me = redis.call('CLUSTER', 'MYID')
    for _, range in ipairs(redis.call('CLUSTER', 'SLOTS')) do
        if range[3][3] == me then
            for slot = range[1], range[2] do
                mine[slot] = true
            end
        end
    end
end
local function here(key)
    return not cluster or mine[redis.call('CLUSTER', 'KEYSLOT', key)]
end
local written = 0
for i = first, first + count - 1 do
    local n, tid = math.floor(i / 2), i % 2
    local tenant = 'bench' .. (math.floor(n / 4) % 64)
    local resource = 'r' .. salt .. '-' .. tid .. '-' .. math.floor(n / 4)
    local start = string.format('%02d:00', 9 + n % 4)
    local tag = '{' .. tenant .. '|' .. resource .. '}:2030-01-15'
    local lock_key = 'booking_lock:' .. tag .. ':' .. start
    local lock_id = string.format('00000000-0000-4000-8000-%012x', i)
    local lockid_key = 'booking_lockid:' .. lock_id
    local at_lock, at_id = here(lock_key), here(lockid_key)
    if at_lock then
        redis.call('SET', lock_key, cjson.encode({
            lockId = lock_id, tenantId = tenant, resourceId = resource,
            date = '2030-01-15', startTime = start, duration = 60,
            acquiredAt = now, maxUntil = now + ttl }), 'PX', ttl)
    end
    if at_id then
        redis.call('SET', lockid_key, lock_key, 'PX', ttl)
    end
    if at_lock then
        local minute = (9 + n % 4) * 60
        local map = string.format('booking_lockmap:%s:%02d', tag, minute / 60)
        redis.call('ZADD', 'booking_locks:' .. tag, minute,
                   string.format('%04d/%04d/%d/%s', minute, 60, now + ttl,
                                 lock_id))
        redis.call('PEXPIRE', 'booking_locks:' .. tag, ttl)
        local len = redis.call('STRLEN', map)
        local n, record = 60 * 64 ^ 7 + now + ttl, ''
        for _ = 1, 9 do
            local d = n % 64
            record = string.sub(DIGITS, d + 1, d + 1) .. record
            n = (n - d) / 64
        end
        local at = (minute % 60) * 9
        if at > len then
            record = string.rep('.', at - len) .. record
        end
        redis.call('SETRANGE', map, math.min(at, len), record)
        redis.call('PEXPIRE', map, ttl)
        redis.call('ZADD', live or ('booking_live:{' .. tenant .. '|'
                                    .. resource .. '}'), now + ttl, lock_id)
        written = written + 1
    end
end
return written
