-- Hold and let go: POST /api/locks/acquire on a new slot, then POST
-- /api/locks/release with the lockId and the slot fields. Every answer is
-- 200.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

acquire_then(release_request)
