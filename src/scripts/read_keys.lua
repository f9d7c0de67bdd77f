-- read_keys: value and remaining life of each key, for the admin listings
-- (keys found with SCAN; read-only).
local items = {}
for i, key in ipairs(KEYS) do
    items[i] = { redis.call('GET', key) or false, redis.call('PTTL', key) }
end
return cjson.encode({ ok = true, serverTime = now_ms(), items = items })
