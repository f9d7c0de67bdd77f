-- status: the held and booked intervals of one resource and day, without
-- lockIds or customer data.
-- KEYS: day lock index, day bookings.  ARGV: lock key prefix of the day.
local function hhmm(m)
    return string.format('%02d:%02d', math.floor(m / 60), m % 60)
end
local locked, booked = {}, {}
for _, l in ipairs(live_locks(KEYS[1], ARGV[1], 0, 1440)) do
    locked[#locked + 1] = { startTime = hhmm(l.start),
                            duration = l.lock.duration, expiresIn = l.pttl }
end
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local s, d = parse_booked(m)
    if s then
        booked[#booked + 1] = { startTime = hhmm(s), duration = d }
    end
end
return cjson.encode({ ok = true, locked = locked, booked = booked })
