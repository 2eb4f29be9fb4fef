--[[
  Ends every session of a user except one (sign out everywhere else), and every remember-me
  series. With an epoch (a credential change, disable, delete), raises the user's credential
  epoch in the same step: no session or series below it can be created after this script.

  KEYS[1] user index          {p:n}:users:<userBucketOf(userId)>
  KEYS[2] live prefix         {p:n}:live:   (the live bucket of each sid)
  KEYS[3] session key prefix  {p:n}:s:
  KEYS[4] series user index   {p:n}:rusers:<userBucketOf(userId)>
  KEYS[5] series key prefix   {p:n}:r:
  KEYS[6] credential epochs   {p:n}:cred:<userBucketOf(userId)>
  KEYS[7] live counter        {p:n}:count   (includes/live-count.lua, ADR 180)
  KEYS[8] due buckets         {p:n}:due     (declared for the slot; removals leave it)
  KEYS[9] split state         {p:n}:reshard (includes/reshard.lua, ADR 260)

  ARGV[1] userId
  ARGV[2] sid to keep, '' for none
  ARGV[3] live buckets (LIVE_BUCKETS)
  ARGV[4] new credential epoch, '' for none (never lowered)

  Returns: the ended sids (array; ids whose record had already gone are not listed).
]]
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/credentials.lua"
-- @include "includes/live-count.lua"
-- @include "includes/reshard.lua"

local uid, except = ARGV[1], ARGV[2]
local moving = reshardState(KEYS[9], uid)
if moving then return moving end
if ARGV[4] ~= '' and tonumber(ARGV[4]) > credentialEpoch(KEYS[6], uid) then
  redis.call('HSET', KEYS[6], uid, ARGV[4])
end

local liveBuckets = tonumber(ARGV[3])
countOpen(KEYS[7], KEYS[8])
local ended = {}
local keep = false
for _, id in ipairs(indexGet(KEYS[1], uid)) do
  if id == except then
    keep = true
  else
    if redis.call('DEL', KEYS[3] .. id) == 1 then ended[#ended + 1] = id end
    liveRemove(liveKey(KEYS[2], id, liveBuckets), id)
  end
end
countUsers(indexSet(KEYS[1], uid, keep and { except } or {}))
countSave()

for _, id in ipairs(indexGet(KEYS[4], uid)) do redis.call('DEL', KEYS[5] .. id) end
indexSet(KEYS[4], uid, {})
return ended
