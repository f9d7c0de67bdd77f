-- Hold and let go: POST /api/locks/acquire on a new slot, then POST
-- /api/locks/release with the lockId and the slot fields. Every answer is
-- 200. The number trick is acquire_book.lua's.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local BASE = 120000
local WRAP = 400000
local n = 0
local pending = {}
local ready = {}

function request()
    local lock = table.remove(ready)
    if lock then
        local s = lock.slot
        return json_post("/api/locks/release", string.format(
            '{"lockId":"%s","tenantId":"%s","resourceId":"%s","date":"%s",'
            .. '"startTime":"%s"}', lock.lockId, s.tenantId, s.resourceId,
            s.date, s.startTime))
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
