-- GET of one path (BENCH_PATH): health, and the two baselines.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

local req

function init()
    req = wrk.format("GET", os.getenv("BENCH_PATH") or "/api/locks/health")
end

function request()
    return req
end
