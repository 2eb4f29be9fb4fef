--[[
  Marks a user's address verified only while the record still holds the address the emailed
  token was issued for and the user is not disabled (a verification link proves one address, and
  never re-enables anything): one key, so the check and the write are one atomic step.

  KEYS[1] user record  {p:u:<userId>}  HASH

  ARGV[1] the normalised address the token proves

  Returns: 1 written (or verified already); 0 the address changed or the user is disabled (nothing
  written); -1 no such user.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local fields = redis.call('HMGET', KEYS[1], 'e', 'd')
if fields[1] ~= ARGV[1] or fields[2] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'v', '1')
return 1
