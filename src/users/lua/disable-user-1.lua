--[[
  Disables a user: marks the record and raises its credential version, so every session and
  remember-me series made before can be refused by the credential epoch (ADR 040).

  KEYS[1] user record  {p:u:<userId>}  HASH (d disabled, cv credential version)

  Returns: the new credential version; -1 no such user (nothing written).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'd', '1')
return redis.call('HINCRBY', KEYS[1], 'cv', 1)
