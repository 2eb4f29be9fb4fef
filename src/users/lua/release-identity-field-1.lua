--[[
  Forgets a linked provider account in the user's record, only if it is still that account (a
  failed link rolls back, an unlink finishes).

  KEYS[1] user record   {p:u:<userId>}   HASH

  ARGV[1] field         o:<provider>
  ARGV[2] subject       the provider's account id

  Returns: 1 removed, 0 the field held something else or nothing.
]]
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
