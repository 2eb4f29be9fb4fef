--[[
  Stores a remember-me series (expires with its deadline) and indexes it under its user.

  KEYS[1] series record      {p:n}:r:<series>
  KEYS[2] series user index  {p:n}:rusers:<userBucketOf(userId)>
  KEYS[3] series key prefix  {p:n}:r:

  ARGV[1] packed series
  ARGV[2] series id
  ARGV[3] userId
  ARGV[4] expiresAt (ms)

  Returns: 1.
]]
-- @include "includes/user-index.lua"

local id, uid = ARGV[2], ARGV[3]
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[4])
local ids = {}
for _, x in ipairs(indexGet(KEYS[2], uid)) do
  if x ~= id and redis.call('EXISTS', KEYS[3] .. x) == 1 then ids[#ids + 1] = x end
end
ids[#ids + 1] = id
indexSet(KEYS[2], uid, ids)
return 1
