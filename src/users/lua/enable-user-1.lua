--[[
  Enables a disabled user: clears the flag and nothing else. The credential version stays where
  disable raised it, so no session or remember-me series made before the disable can come back
  (ADR 040, ADR 150).

  KEYS[1] user record  {p:u:<userId>}  HASH (d disabled, cv credential version)

  Returns: 1 enabled (or was not disabled); -1 no such user (nothing written).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'd', '0')
return 1
