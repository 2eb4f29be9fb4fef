--[[
  Replaces a live session by a new one (new id on login or privilege change). Nothing is written
  when the old session is absent or expired, or when the new one's credential version is below
  the owner's credential epoch.

  KEYS[1] old session record  {p:n}:s:<old>
  KEYS[2] new session record  {p:n}:s:<new>
  KEYS[3] old live index      {p:n}:live:<liveBucketOf(old)>
  KEYS[4] new live index      {p:n}:live:<liveBucketOf(new)>   (may equal KEYS[3])
  KEYS[5] user index prefix   {p:n}:users:   (the owner, read from the record, picks the bucket)
  KEYS[6] credential prefix   {p:n}:cred:    (likewise)
  KEYS[7] live counter        {p:n}:count    (includes/live-count.lua, ADR 180)
  KEYS[8] due buckets         {p:n}:due
  KEYS[9] split state         {p:n}:reshard (includes/reshard.lua, ADR 260)

  ARGV[1] old sid
  ARGV[2] new sid
  ARGV[3] new packed record
  ARGV[4] new expiresAt (ms)
  ARGV[5] sweep grace (ms)
  ARGV[6] now (ms)
  ARGV[7] user-index buckets (USER_BUCKETS)
  ARGV[8] the new session's credential version
  ARGV[9] live buckets (LIVE_BUCKETS)

  Returns: 1 rotated, 0 old session absent or expired, -1 old record malformed (left as is),
  -2 the owner's credential epoch is above ARGV[8].
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/credentials.lua"
-- @include "includes/live-count.lua"
-- @include "includes/reshard.lua"

local oldSid, newSid = ARGV[1], ARGV[2]
local buckets = tonumber(ARGV[7])
local rec = readRecord(KEYS[1])
if not rec then return 0 end
local deadline, owner = sessionDeadline(rec), sessionOwner(rec)
if not deadline or not owner then return -1 end
local moving = reshardState(KEYS[9], owner)
if moving then return moving end
if deadline <= tonumber(ARGV[6]) then return 0 end
if tonumber(ARGV[8]) < credentialEpoch(userIndexKey(KEYS[6], owner, buckets), owner) then
  return -2
end

countOpen(KEYS[7], KEYS[8])
redis.call('DEL', KEYS[1])
liveRemove(KEYS[3], oldSid)
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', tonumber(ARGV[4]) + tonumber(ARGV[5]))
liveAdd(KEYS[4], liveBucket(newSid, tonumber(ARGV[9])), ARGV[4], newSid)

-- The new id takes the old one's place in the owner's list (age order is kept).
local users = userIndexKey(KEYS[5], owner, buckets)
local ids = indexGet(users, owner)
local placed = false
for i, id in ipairs(ids) do
  if id == oldSid then ids[i] = newSid end
  if ids[i] == newSid then placed = true end
end
if not placed then ids[#ids + 1] = newSid end
countUsers(indexSet(users, owner, ids))
countSave()
return 1
