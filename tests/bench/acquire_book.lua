-- The checkout flow: POST /api/locks/acquire on a new slot, then POST
-- /api/appointments with the lockId it returned. Answers are 200 (acquire)
-- and 201 (booking), half each.
--
-- wrk does not say which request an answer belongs to, so each acquire
-- carries its own number in "ttl" (ttl = BASE + number), which comes back
-- as "expiresIn" and names the slot the lock is for.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local BASE = 120000
local WRAP = 400000     -- BASE + WRAP stays under LOCK_MAX_HOLD (600000)
local n = 0
local pending = {}      -- number -> slot, acquires not answered yet
local ready = {}        -- { slot, lockId } to book

function request()
    local lock = table.remove(ready)
    if lock then
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
    n = n + 1
    local k = n % WRAP
    pending[k] = slot(n)
    return json_post("/api/locks/acquire", acquire_body(pending[k], BASE + k))
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
