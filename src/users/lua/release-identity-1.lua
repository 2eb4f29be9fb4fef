--[[
  Unlinks a provider account: deletes its identity key only if it still names this user, so an
  unlink can never remove another user's link.

  KEYS[1] identity      {p:o:<sha256(provider:subject)>}   STRING userId

  ARGV[1] userId

  Returns: 1 deleted, 0 the key named someone else or was gone.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
