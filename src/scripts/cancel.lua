-- cancel: mark an appointment cancelled and free its interval at once.
-- Cancelling twice changes nothing and answers the same.
-- KEYS: appointment record, day bookings, stats, the resource's event
--       stream.
local raw = redis.call('GET', KEYS[1])
if not raw then
    return fail('not_found')
end
local appt = cjson.decode(raw)
if appt.status ~= 'cancelled' then
    local s = tonumber(string.sub(appt.startTime, 1, 2)) * 60
              + tonumber(string.sub(appt.startTime, 4, 5))
    redis.call('ZREM', KEYS[2], s .. '/' .. appt.duration .. '/' .. appt.id)
    -- Edited as text, not encoded again: cjson would round its numbers.
    raw = string.gsub(raw, '"status":"confirmed"', '"status":"cancelled"', 1)
    raw = string.sub(raw, 1, -2) .. ',"cancelledAt":' .. now_ms() .. '}'
    redis.call('SET', KEYS[1], raw)
    redis.call('HINCRBY', KEYS[3], 'bookingsCancelled', 1)
    booking_event(KEYS[4], nil, 'booking.cancelled', appt)
end
return '{"ok":true,"appointment":' .. raw .. '}'
