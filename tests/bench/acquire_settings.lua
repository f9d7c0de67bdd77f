-- POST /api/locks/acquire, each request a new slot, on a fixed pool of
-- resources that script/bench may have given settings (a capacity,
-- buffers): BENCH_SETTINGS_PREFIX names them, <prefix>-<tid>-<r> for r in
-- 0..255 of tenant bench<r % 64>. Four one-hour slots a day, three hours
-- apart (no buffer up to 120 minutes meets the next), so that every answer
-- is 200 whatever the settings, and each resource's days fill one after
-- the other as acquire_unique's resources do.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

RESOURCES = 256
local n = 0
local prefix
local first_day = os.time({ year = 2030, month = 1, day = 1, hour = 12 })

function init()
    prefix = os.getenv("BENCH_SETTINGS_PREFIX") or "set"
end

function request()
    local r, k = n % RESOURCES, math.floor(n / RESOURCES)
    n = n + 1
    local s = {
        tenantId = "bench" .. (r % 64),
        resourceId = prefix .. "-" .. tid .. "-" .. r,
        date = os.date("!%Y-%m-%d", first_day + math.floor(k / 4) * 86400),
        startTime = string.format("%02d:00", 8 + 3 * (k % 4)),
        duration = 60,
    }
    return json_post("/api/locks/acquire", acquire_body(s))
end
