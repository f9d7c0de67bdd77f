-- common.lua: what every script/bench scenario shares (wrk Lua API).
--
-- Loaded by each scenario with dofile. It gives each wrk thread a number
-- (tid) and a salt (BENCH_SALT, so that runs against one Redis never reuse
-- a slot), counts the status of every response per thread, and at the end
-- prints one machine-readable line that script/bench parses:
--
--   BENCH requests=N duration_us=N rps=N p50_us=N p99_us=N max_us=N
--         socket_errors=N statuses=200:N,409:N
--
-- A scenario defines request() and, when it needs to look at answers,
-- response() calling count(status) itself.

local threads = {}
local next_tid = 0

function setup(thread)
    thread:set("tid", next_tid)
    next_tid = next_tid + 1
    threads[#threads + 1] = thread
end

salt = os.getenv("BENCH_SALT") or tostring(os.time())
statuses = {}

function count(status)
    statuses[status] = (statuses[status] or 0) + 1
end

function response(status)
    count(status)
end

function json_post(path, body)
    return wrk.format("POST", path,
                      { ["Content-Type"] = "application/json" }, body)
end

-- The n-th slot of this thread: 4 one-hour slots per resource and day,
-- resources spread over 64 tenants, as a real booking site's keys would be.
function slot(n)
    local s = {
        tenantId = "bench" .. (math.floor(n / 4) % 64),
        resourceId = "r" .. salt .. "-" .. tid .. "-" .. math.floor(n / 4),
        date = "2030-01-15",
        startTime = string.format("%02d:00", 9 + n % 4),
        duration = 60,
    }
    s.endTime = string.format("%02d:00", 10 + n % 4)
    return s
end

function acquire_body(s, ttl)
    return string.format(
        '{"tenantId":"%s","resourceId":"%s","date":"%s","startTime":"%s",'
        .. '"duration":%d%s}', s.tenantId, s.resourceId, s.date, s.startTime,
        s.duration, ttl and (',"ttl":' .. ttl) or "")
end

-- The second steps of the acquire-then flows below, for a lock
-- ({ slot =, lockId = }): book its slot, or let it go.
function book_request(lock)
    local s = lock.slot
    return json_post("/api/appointments", string.format(
        '{"lockId":"%s","tenantId":"%s","specialistId":"%s",'
        .. '"serviceId":"checkup","date":"%s","startTime":"%s",'
        .. '"endTime":"%s","duration":%d,"customerName":"Bench Mark",'
        .. '"customerEmail":"bench@example.com",'
        .. '"customerPhone":"+1 555 0100","price":50}',
        lock.lockId, s.tenantId, s.resourceId, s.date, s.startTime,
        s.endTime, s.duration))
end

function release_request(lock)
    local s = lock.slot
    return json_post("/api/locks/release", string.format(
        '{"lockId":"%s","tenantId":"%s","resourceId":"%s","date":"%s",'
        .. '"startTime":"%s"}', lock.lockId, s.tenantId, s.resourceId,
        s.date, s.startTime))
end

-- The acquire-then-something flows: each request either acquires a new
-- slot or, when an acquire has answered, sends next(lock) for that lock
-- ({ slot =, lockId = }). wrk does not say which request an answer is for,
-- so each acquire asks for a ttl of BASE + k and the answer's expiresIn
-- names the slot k again.
function acquire_then(next)
    local BASE = 120000
    local WRAP = 400000     -- BASE + WRAP stays under LOCK_MAX_HOLD
    local n = 0
    local pending = {}
    local ready = {}

    function request()
        local lock = table.remove(ready)
        if lock then
            return next(lock)
        end
        n = n + 1
        local k = n % WRAP
        pending[k] = slot(n)
        return json_post("/api/locks/acquire",
                         acquire_body(pending[k], BASE + k))
    end

    function response(status, headers, body)
        count(status)
        if status ~= 200 then
            return
        end
        local k = tonumber(body:match('"expiresIn":(%d+)'))
        local lock_id = body:match('"lockId":"([^"]+)"')
        if k and lock_id and pending[k - BASE] then
            ready[#ready + 1] = { slot = pending[k - BASE], lockId = lock_id }
            pending[k - BASE] = nil
        end
    end
end

function done(summary, latency, requests)
    local by_status = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses") or {}) do
            by_status[status] = (by_status[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(by_status) do
        parts[#parts + 1] = status .. ":" .. n
    end
    table.sort(parts)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d "
        .. "max_us=%d socket_errors=%d statuses=%s\n",
        summary.requests, summary.duration,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), latency.max,
        e.connect + e.read + e.write + e.timeout,
        #parts > 0 and table.concat(parts, ",") or "-"))
end
