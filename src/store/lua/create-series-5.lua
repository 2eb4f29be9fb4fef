--[[
  Stores a remember-me series (expires with its deadline) and indexes it under its user, unless
  the user's credentials changed since the caller read them; past maxPerUser series, the user's
  oldest end.

  KEYS[1] series record      {p:n}:r:<series>
  KEYS[2] series user index  {p:n}:rusers:<userBucketOf(userId)>
  KEYS[3] series key prefix  {p:n}:r:
  KEYS[4] credential epochs  {p:n}:cred:<userBucketOf(userId)>
  KEYS[5] split state        {p:n}:reshard (includes/reshard.lua, ADR 260)

  ARGV[1] packed series
  ARGV[2] series id
  ARGV[3] userId
  ARGV[4] expiresAt (ms)
  ARGV[5] the series' credential version
  ARGV[6] most series per user (session.maxRememberPerUser)

  Returns: 1 stored; -2 when the user's credential epoch is above ARGV[5] (nothing written).
]]
-- @include "includes/user-index.lua"
-- @include "includes/credentials.lua"
-- @include "includes/reshard.lua"

local id, uid = ARGV[2], ARGV[3]
local moving = reshardState(KEYS[5], uid)
if moving then return moving end
if tonumber(ARGV[5]) < credentialEpoch(KEYS[4], uid) then return -2 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[4])
local ids = {}
for _, x in ipairs(indexGet(KEYS[2], uid)) do
  if x ~= id and redis.call('EXISTS', KEYS[3] .. x) == 1 then ids[#ids + 1] = x end
end
ids[#ids + 1] = id
local over = #ids - tonumber(ARGV[6])
if over > 0 then
  local kept = {}
  for i, x in ipairs(ids) do
    if i <= over then redis.call('DEL', KEYS[3] .. x) else kept[#kept + 1] = x end
  end
  ids = kept
end
indexSet(KEYS[2], uid, ids)
return 1
