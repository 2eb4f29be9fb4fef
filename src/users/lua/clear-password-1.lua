--[[
  Removes a user's password and raises the credential version (a merge ends the password of
  whoever registered an address without proving it, ADR 060): sessions and series created under
  the old version can no longer be created (ADR 040).

  KEYS[1] user record  {p:u:<userId>}  HASH (ph password hash, pc changed at, cv credential version)

  ARGV[1] passwordChangedAt (ms)

  Returns: the credential version after the write; -1 no such user.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local version = (tonumber(redis.call('HGET', KEYS[1], 'cv') or '0') or 0) + 1
redis.call('HSET', KEYS[1], 'ph', '', 'pc', ARGV[1], 'cv', version)
return version
