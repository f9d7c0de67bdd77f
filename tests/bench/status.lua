-- GET /api/locks/status over the resource days that common.lua's slot(n)
-- names for n < BENCH_STATUS_RANGE, with the salt BENCH_STATUS_SALT (that
-- script/bench preloads with tests/bench/preload.lua): four held slots
-- each.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local n = 0
local range

function init()
    salt = os.getenv("BENCH_STATUS_SALT") or salt
    range = tonumber(os.getenv("BENCH_STATUS_RANGE")) or 40000
end

function request()
    n = n + 4
    local s = slot(n % range)
    return wrk.format("GET", string.format(
        "/api/locks/status?tenantId=%s&resourceId=%s&date=%s",
        s.tenantId, s.resourceId, s.date))
end
