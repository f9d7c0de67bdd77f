-- status: the held and booked intervals of one resource and day, without
-- lockIds or customer data. The held ones are the day's lock map as it is
-- (one GET, nothing decoded here, so that a full day costs Redis about
-- what an empty one does); the caller reads its records and drops those
-- whose expiresAt has passed.
-- KEYS: day lock index (unused), day bookings, day lock map.
-- ARGV: lock key prefix of the day (unused).
local map = redis.call('GET', KEYS[3]) or ''
if string.find(map, '"', 1, true) or string.find(map, '\\', 1, true) then
    map = ''
end
local booked = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local s, d = parse_booked(m)
    if s then
        booked[#booked + 1] = { startTime = hhmm(s), duration = d }
    end
end
return '{"ok":true,"serverTime":' .. now_ms() .. ',"lockMap":"' .. map
       .. '","booked":' .. cjson.encode(booked) .. '}'
