-- A busy day on a slot grid: each specialist's day (one resource and date)
-- fills up with 15-minute holds, 96 to the day, taken in random order, so
-- that later acquires meet a day that is nearly full. BENCH_BUSY says what
-- to send:
--
--   fill     (default) POST /api/locks/acquire on quarter-hours of new
--            days, each day's quarters in a random order of its own, 8
--            days at a time per wrk thread: every answer is 200. With
--            BENCH_BUSY_BOOK=1 each hold is then booked (POST
--            /api/appointments with its lockId; 201), the checkout flow
--            on a busy day. With BENCH_BUSY_DAYS=N a thread fills days 0
--            to N-1 only (sending GET /api/locks/health while the last
--            answers are due), prints BENCH_FILLED once they are in and
--            stops; with BENCH_BUSY_FREE=1 it leaves one quarter of
--            each day free (free_quarter below). script/bench fills
--            days this way before the two scenarios below.
--   status   GET /api/locks/status of days 0 to BENCH_BUSY_DAYS-1 in turn.
--   cycle    acquire the free quarter of day d, then release it, for days
--            0 to BENCH_BUSY_DAYS-1 in turn: acquire on a day that holds 95
--            other holds when the days were filled with BENCH_BUSY_FREE=1,
--            on an empty day when they were not filled. A day comes back
--            to the turn only once its release has been sent.
--
-- Days are named from BENCH_BUSY_SALT (so that a fill and the runs after it
-- name the same days) or else the run's own salt, and the wrk thread.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local QUARTERS = 96
local OPEN = 8          -- days a thread fills at once
local BASE = 120000     -- ttl = BASE + k names pending request k (see
local WRAP = 400000     -- acquire_then in common.lua)

local mode, book, days_max, leave_free, health

function init()
    mode = os.getenv("BENCH_BUSY") or "fill"
    book = os.getenv("BENCH_BUSY_BOOK") == "1"
    days_max = tonumber(os.getenv("BENCH_BUSY_DAYS") or "")
    leave_free = os.getenv("BENCH_BUSY_FREE") == "1"
    salt = os.getenv("BENCH_BUSY_SALT") or salt
    health = wrk.format("GET", "/api/locks/health")
    math.randomseed(os.time() * 64 + tid + #salt)
end

local function free_quarter(d)
    return (d * 37) % QUARTERS
end

local function hhmm(m)
    return string.format("%02d:%02d", math.floor(m / 60), m % 60)
end

-- Quarter q of day d, as common.lua's slot() gives a slot.
local function day_slot(d, q)
    return {
        tenantId = "busy" .. (d % 64),
        resourceId = "s" .. salt .. "-" .. tid .. "-" .. d,
        date = "2030-01-15",
        startTime = hhmm(q * 15),
        endTime = hhmm(q * 15 + 15),
        duration = 15,
    }
end

-- The quarters of a day in a random order (Fisher-Yates).
local function shuffled(d)
    local qs = {}
    for q = 0, QUARTERS - 1 do
        if not (leave_free and q == free_quarter(d)) then
            qs[#qs + 1] = q
        end
    end
    for i = #qs, 2, -1 do
        local j = math.random(i)
        qs[i], qs[j] = qs[j], qs[i]
    end
    return qs
end

-- Acquires whose answer names them by their ttl: pending[k] = the slot.
local n = 0
local pending = {}
local ready = {}

local function acquire(s)
    n = n + 1
    local k = n % WRAP
    pending[k] = s
    return json_post("/api/locks/acquire", acquire_body(s, BASE + k))
end

-- A fill of BENCH_BUSY_DAYS days says when its answers are in, and stops
-- its thread: script/bench then ends wrk. Health answers, sent once nothing
-- is left to send, do not count; once there have been HEALTH_WAIT of them
-- (every connection has gone round several times since its last acquire)
-- no answer is still due, even if wrk lost count of one.
local answered, expected, health_answers, reported = 0, nil, 0, false
local HEALTH_WAIT = 1024

function response(status, headers, body)
    count(status)
    if mode == "fill" and days_max then
        if status ~= 200 or (body and body:find('"lockId"', 1, true)) then
            answered = answered + 1
        else
            health_answers = health_answers + 1
        end
        expected = expected or days_max
            * (leave_free and QUARTERS - 1 or QUARTERS) * (book and 2 or 1)
        if not reported
           and (answered >= expected or health_answers >= HEALTH_WAIT) then
            -- Once: answers still on their way after the stop must not
            -- report the thread done twice.
            reported = true
            io.write(string.format("BENCH_FILLED answered=%d expected=%d\n",
                                   answered, expected))
            io.flush()
            wrk.thread:stop()
        end
    end
    if status ~= 200 or not body then
        return
    end
    local k = tonumber(body:match('"expiresIn":(%d+)'))
    local lock_id = body:match('"lockId":"([^"]+)"')
    local s = k and pending[k - BASE]
    if s and lock_id then
        pending[k - BASE] = nil
        if book or mode == "cycle" then
            ready[#ready + 1] = { slot = s, lockId = lock_id }
        end
    end
end

-- fill: OPEN days at a time, each with its own order of quarters.
local open = {}
local next_day = 0
local turn = 0

local function fill_request()
    local lock = table.remove(ready)
    if lock then
        return book_request(lock)
    end
    while #open < OPEN and (not days_max or next_day < days_max) do
        open[#open + 1] = { d = next_day, qs = shuffled(next_day) }
        next_day = next_day + 1
    end
    if #open == 0 then
        return health
    end
    turn = turn % #open + 1
    local day = open[turn]
    local q = table.remove(day.qs)
    if #day.qs == 0 then
        table.remove(open, turn)
    end
    return acquire(day_slot(day.d, q))
end

-- cycle: a ring of days, each out of it from its acquire until its release
-- is sent.
local ring, ring_first, ring_last

local function cycle_request()
    if not ring then
        ring, ring_first, ring_last = {}, 1, 0
        for d = 0, (days_max or 256) - 1 do
            ring_last = ring_last + 1
            ring[ring_last] = d
        end
    end
    local lock = table.remove(ready, 1)
    if lock then
        ring_last = ring_last + 1
        ring[ring_last] = lock.slot.day
        return release_request(lock)
    end
    if ring_first > ring_last then
        return health
    end
    local d = ring[ring_first]
    ring[ring_first] = nil
    ring_first = ring_first + 1
    local s = day_slot(d, free_quarter(d))
    s.day = d
    return acquire(s)
end

local status_n = 0

local function status_request()
    local d = status_n % (days_max or 1)
    status_n = status_n + 1
    local s = day_slot(d, 0)
    return wrk.format("GET", string.format(
        "/api/locks/status?tenantId=%s&resourceId=%s&date=%s",
        s.tenantId, s.resourceId, s.date))
end

function request()
    if mode == "cycle" then
        return cycle_request()
    elseif mode == "status" then
        return status_request()
    end
    return fill_request()
end
