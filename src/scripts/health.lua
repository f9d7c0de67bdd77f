-- health: proves Redis runs our scripts, not only that it answers PING.
return cjson.encode({ ok = true, serverTime = now_ms() })
