-- A full day at capacity 1000 (script/bench fills it: every place of each
-- of its 24 one-hour slots held). BENCH_CAPACITY_MODE "acquire": one more
-- acquire of a random hour, always 409 slot_full; "status": the day's
-- status (24,000 holds, each with its places taken).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local mode, tenant, resource, date

function init()
    mode = os.getenv("BENCH_CAPACITY_MODE") or "acquire"
    tenant = os.getenv("BENCH_CAPACITY_TENANT")
    resource = os.getenv("BENCH_CAPACITY_RESOURCE")
    date = os.getenv("BENCH_CAPACITY_DATE")
end

function request()
    if mode == "status" then
        return wrk.format("GET", string.format(
            "/api/locks/status?tenantId=%s&resourceId=%s&date=%s",
            tenant, resource, date))
    end
    return json_post("/api/locks/acquire", string.format(
        '{"tenantId":"%s","resourceId":"%s","date":"%s",'
        .. '"startTime":"%02d:00","duration":60}', tenant, resource, date,
        math.random(0, 23)))
end
