-- resource: a resource's settings, read (no ARGV) or written (capacity,
-- bufferBefore, bufferAfter); both answer what is stored, the defaults
-- (capacity 1, no buffers) for what is not.
-- KEYS: booking_resource:{t|r}.
if #ARGV == 3 then
    redis.call('HSET', KEYS[1], 'capacity', ARGV[1], 'bufferBefore', ARGV[2],
               'bufferAfter', ARGV[3])
    if tonumber(ARGV[1]) > 1 then
        -- From now on its holds may overlap (see resource_settings).
        redis.call('HSET', KEYS[1], 'shared', '1')
    end
end
local s = resource_settings(KEYS[1])
return cjson.encode({ ok = true, capacity = s.capacity,
                      bufferBefore = s.before, bufferAfter = s.after })
