-- POST /api/locks/acquire, each request a new slot: every answer is 200.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local n = 0

function request()
    n = n + 1
    return json_post("/api/locks/acquire", acquire_body(slot(n)))
end
