--[[
  Ends every session of a user except one (sign out everywhere else), and every remember-me series.

  KEYS[1] user index          {p:n}:users:<userBucketOf(userId)>
  KEYS[2] live prefix         {p:n}:live:   (the live bucket of each sid)
  KEYS[3] session key prefix  {p:n}:s:
  KEYS[4] series user index   {p:n}:rusers:<userBucketOf(userId)>
  KEYS[5] series key prefix   {p:n}:r:

  ARGV[1] userId
  ARGV[2] sid to keep, '' for none
  ARGV[3] live buckets (LIVE_BUCKETS)

  Returns: the ended sids (array; ids whose record had already gone are not listed).
]]
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"

local uid, except = ARGV[1], ARGV[2]
local liveBuckets = tonumber(ARGV[3])
local ended = {}
local keep = false
for _, id in ipairs(indexGet(KEYS[1], uid)) do
  if id == except then
    keep = true
  else
    if redis.call('DEL', KEYS[3] .. id) == 1 then ended[#ended + 1] = id end
    redis.call('ZREM', liveKey(KEYS[2], id, liveBuckets), id)
  end
end
if keep then indexSet(KEYS[1], uid, { except }) else indexSet(KEYS[1], uid, {}) end

for _, id in ipairs(indexGet(KEYS[4], uid)) do redis.call('DEL', KEYS[5] .. id) end
indexSet(KEYS[4], uid, {})
return ended
