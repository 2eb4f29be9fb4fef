--[[
  Records a linked provider account in the user's record. Runs before the identity key is claimed,
  so every identity that can sign a user in is one the user can see and unlink.

  KEYS[1] user record   {p:u:<userId>}   HASH

  ARGV[1] field         o:<provider>
  ARGV[2] subject       the provider's account id

  Returns: 1 recorded (or already recorded), 0 the user has another account of this provider,
  -1 no such user (nothing written: a link never creates a partial user record).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and held ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
