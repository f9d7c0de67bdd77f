-- sweep: reports the holds of one live-lock set that ran out, as
-- hold.expired on their resource's stream, some at a time (the sweeper
-- calls it again while it says more). An acquire or a metrics call that
-- finds them first reports them instead: whoever removes an expired entry
-- reports it, so each hold is reported once, however many sweepers run.
-- KEYS: live-lock set, stats, and in Redis Cluster the resource's event
--       stream.
-- ARGV: how many at most.
local n, more = expire_holds(KEYS[1], KEYS[2], now_ms(), tonumber(ARGV[1]))
return cjson.encode({ ok = true, expired = n, more = more })
