-- The checkout flow: POST /api/locks/acquire on a new slot, then POST
-- /api/appointments with the lockId it returned. Answers are 200 (acquire)
-- and 201 (booking), half each.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
       .. "common.lua")

acquire_then(function(lock)
    local s = lock.slot
    return json_post("/api/appointments", string.format(
        '{"lockId":"%s","tenantId":"%s","specialistId":"%s",'
        .. '"serviceId":"checkup","date":"%s","startTime":"%s",'
        .. '"endTime":"%s","duration":%d,"customerName":"Bench Mark",'
        .. '"customerEmail":"bench@example.com",'
        .. '"customerPhone":"+1 555 0100","price":50}',
        lock.lockId, s.tenantId, s.resourceId, s.date, s.startTime,
        s.endTime, s.duration))
end)
