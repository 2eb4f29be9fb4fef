--[[
  Growing the shard count (ADR 260), step 3 of a user's move, on the user's old shard: deletes
  the user's data here (reshard-import copied it), keeps this shard's counter, and marks the user
  moved: scripts that find them here from now on answer MOVED. Only a frozen user is released.

  KEYS[1] user index          {p:s}:users:<userBucketOf(userId)>
  KEYS[2] live prefix         {p:s}:live:
  KEYS[3] session key prefix  {p:s}:s:
  KEYS[4] series user index   {p:s}:rusers:<userBucketOf(userId)>
  KEYS[5] series key prefix   {p:s}:r:
  KEYS[6] credential epochs   {p:s}:cred:<userBucketOf(userId)>
  KEYS[7] live counter        {p:s}:count
  KEYS[8] due buckets         {p:s}:due    (declared for the slot; removals leave it)
  KEYS[9] split state         {p:s}:reshard

  ARGV[1] userId
  ARGV[2] live buckets (LIVE_BUCKETS)

  Returns: 1 released, 0 the user was not frozen (nothing changed).
]]
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/live-count.lua"

local uid = ARGV[1]
if redis.call('HGET', KEYS[9], uid) ~= 'm' then return 0 end
local liveBuckets = tonumber(ARGV[2])
countOpen(KEYS[7], KEYS[8])
for _, id in ipairs(indexGet(KEYS[1], uid)) do
  redis.call('DEL', KEYS[3] .. id)
  liveRemove(liveKey(KEYS[2], id, liveBuckets), id)
end
countUsers(indexSet(KEYS[1], uid, {}))
countSave()
for _, id in ipairs(indexGet(KEYS[4], uid)) do redis.call('DEL', KEYS[5] .. id) end
indexSet(KEYS[4], uid, {})
redis.call('HDEL', KEYS[6], uid)
redis.call('HSET', KEYS[9], uid, 'd')
redis.call('HINCRBY', KEYS[9], '#m', -1)
return 1
