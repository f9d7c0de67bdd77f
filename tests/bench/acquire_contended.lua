-- POST /api/locks/acquire, every request for the same slot: the first is
-- 200, every other one 409 slot_locked.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local body

function init()
    body = json_post("/api/locks/acquire", acquire_body({
        tenantId = "bench-contended", resourceId = "r" .. salt,
        date = "2030-01-15", startTime = "09:00", duration = 60 }))
end

function request()
    return body
end
