-- The checkout flow: POST /api/locks/acquire on a new slot, then POST
-- /api/appointments with the lockId it returned. Answers are 200 (acquire)
-- and 201 (booking), half each.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

acquire_then(book_request)
