--[[
  Sets fields of a user record only if it exists (HSET alone would create a half record for a
  user deleted meanwhile).

  KEYS[1] user record  {p:u:<userId>}  HASH

  ARGV    field, value, field, value, ...

  Returns: 1 written; -1 no such user (nothing written).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
