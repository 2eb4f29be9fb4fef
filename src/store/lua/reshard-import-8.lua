--[[
  Growing the shard count (ADR 260), step 2 of a user's move, on the user's new shard: adds the
  data reshard-freeze returned to what the user has here (sessions created here since the split
  began stay). Idempotent: importing the same data twice changes nothing more (a resumed move).
  Keeps this shard's counter (ADR 180); the user is counted on both shards until the release.

  KEYS[1] user index          {p:t}:users:<userBucketOf(userId)>
  KEYS[2] live prefix         {p:t}:live:
  KEYS[3] session key prefix  {p:t}:s:
  KEYS[4] series user index   {p:t}:rusers:<userBucketOf(userId)>
  KEYS[5] series key prefix   {p:t}:r:
  KEYS[6] credential epochs   {p:t}:cred:<userBucketOf(userId)>
  KEYS[7] live counter        {p:t}:count
  KEYS[8] due buckets         {p:t}:due

  ARGV[1] userId
  ARGV[2] live buckets (LIVE_BUCKETS)
  ARGV[3] credential epoch, '' for none (never lowers the one here)
  ARGV[4] n: sessions that follow, as id, record, pttl (3n values); then series, id, record, pttl
  ARGV[5] now (ms): sessions past their deadline are not imported

  Returns: 1.
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/credentials.lua"
-- @include "includes/live-count.lua"

local uid = ARGV[1]
local liveBuckets = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if ARGV[3] ~= '' and tonumber(ARGV[3]) > credentialEpoch(KEYS[6], uid) then
  redis.call('HSET', KEYS[6], uid, ARGV[3])
end

-- Sessions: the ones here first (they are newer: made here after the split began), keeping age order.
countOpen(KEYS[7], KEYS[8])
local imported = {}
for i = 0, n - 1 do
  local id, rec, ttl = ARGV[6 + 3 * i], ARGV[7 + 3 * i], tonumber(ARGV[8 + 3 * i])
  local deadline = sessionDeadline(rec)
  if deadline and deadline > now then
    redis.call('SET', KEYS[3] .. id, rec, 'PX', ttl)
    liveAdd(liveKey(KEYS[2], id, liveBuckets), liveBucket(id, liveBuckets), deadline, id)
    imported[#imported + 1] = id
  end
end
local seen = {}
for _, id in ipairs(imported) do seen[id] = true end
for _, id in ipairs(indexGet(KEYS[1], uid)) do
  if not seen[id] then
    imported[#imported + 1] = id
    seen[id] = true
  end
end
if #imported > 0 then countUsers(indexSet(KEYS[1], uid, imported)) end
countSave()

local series = {}
local seenSeries = {}
local i = 6 + 3 * n
while ARGV[i] do
  redis.call('SET', KEYS[5] .. ARGV[i], ARGV[i + 1], 'PX', tonumber(ARGV[i + 2]))
  series[#series + 1] = ARGV[i]
  seenSeries[ARGV[i]] = true
  i = i + 3
end
for _, id in ipairs(indexGet(KEYS[4], uid)) do
  if not seenSeries[id] then series[#series + 1] = id end
end
if #series > 0 then indexSet(KEYS[4], uid, series) end
return 1
