--[[
  Stores a new session and indexes it, unless the user's credentials changed since the caller
  read them; past maxPerUser, revokes the user's oldest sessions and the remember-me series they
  belong to. Sessions of the new session's own remember-me series go first, and that series
  stays (ADR 216): a burst of parallel remember-me sign-ins of one browser (one session per
  request, within the rotation's grace window) replaces its own sessions, never another device's
  session, and never ends the series the browser still holds.

  KEYS[1] session record      {p:n}:s:<sid>
  KEYS[2] live index          {p:n}:live:<liveBucketOf(sid)>
  KEYS[3] user index          {p:n}:users:<userBucketOf(userId)>
  KEYS[4] session key prefix  {p:n}:s:      (same slot: evicted records are built from it)
  KEYS[5] live prefix         {p:n}:live:   (same slot: the live buckets of evicted sids)
  KEYS[6] credential epochs   {p:n}:cred:<userBucketOf(userId)>
  KEYS[7] series key prefix   {p:n}:r:
  KEYS[8] series user index   {p:n}:rusers:<userBucketOf(userId)>
  KEYS[9] live counter        {p:n}:count   (includes/live-count.lua, ADR 180)
  KEYS[10] due buckets        {p:n}:due
  KEYS[11] split state       {p:n}:reshard (includes/reshard.lua, ADR 260)

  ARGV[1] packed record
  ARGV[2] sid
  ARGV[3] userId
  ARGV[4] expiresAt (ms)
  ARGV[5] sweep grace (ms): the record outlives its deadline so the sweep can read its owner
  ARGV[6] maxPerUser
  ARGV[7] live buckets (LIVE_BUCKETS)
  ARGV[8] the session's credential version

  A credential version above the user's epoch means a credential change (a new password) whose
  revocation never landed: the store failed after the change was written, and the process that
  retried it died (ADR 273). This login finishes it first, as revoke-user would have: the epoch
  rises to ARGV[8], and every session and series made under an older version ends (their ids
  lead the returned list). A record under this version, or one that does not parse, stays.

  Returns: the ended sids (array: those of the finished revocation, then the evicted ones, oldest
  first); -2 when the user's credential epoch is above ARGV[8] (nothing written).
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/series-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/credentials.lua"
-- @include "includes/live-count.lua"
-- @include "includes/reshard.lua"

local sid, uid = ARGV[2], ARGV[3]
local moving = reshardState(KEYS[11], uid)
if moving then return moving end
local version, epoch = tonumber(ARGV[8]), credentialEpoch(KEYS[6], uid)
if version < epoch then return -2 end

local prefix = KEYS[4]
local liveBuckets = tonumber(ARGV[7])
countOpen(KEYS[9], KEYS[10])
local evicted = {}
if version > epoch then
  redis.call('HSET', KEYS[6], uid, ARGV[8])
  for _, id in ipairs(indexGet(KEYS[3], uid)) do
    local rec = readRecord(prefix .. id)
    local made = rec and sessionCredentialVersion(rec)
    if made and made < version then
      redis.call('DEL', prefix .. id)
      liveRemove(liveKey(KEYS[5], id, liveBuckets), id)
      evicted[#evicted + 1] = id
    end
  end
  for _, series in ipairs(indexGet(KEYS[8], uid)) do
    local rec = readRecord(KEYS[7] .. series)
    local parsed = rec and parseSeries(rec)
    if parsed and parsed.credentialVersion < version then
      redis.call('DEL', KEYS[7] .. series)
      indexRemove(KEYS[8], uid, series)
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', tonumber(ARGV[4]) + tonumber(ARGV[5]))
liveAdd(KEYS[2], liveBucket(sid, liveBuckets), ARGV[4], sid)

-- Index entries whose record is gone (expired past grace) are dropped here.
local ids = {}
for _, id in ipairs(indexGet(KEYS[3], uid)) do
  if id ~= sid and redis.call('EXISTS', prefix .. id) == 1 then ids[#ids + 1] = id end
end
ids[#ids + 1] = sid

local over = #ids - tonumber(ARGV[6])
if over > 0 then
  local own = sessionSeries(ARGV[1])
  if own == '' then own = nil end
  -- Victims: the new session's siblings (same series) oldest first, then the oldest others.
  local records, victims = {}, {}
  for i = 1, #ids - 1 do
    records[i] = readRecord(prefix .. ids[i])
  end
  local chosen = 0
  for pass = 1, 2 do
    for i = 1, #ids - 1 do
      if chosen < over and not victims[i] then
        local series = records[i] and sessionSeries(records[i])
        if pass == 2 or (own and series == own) then
          victims[i] = true
          chosen = chosen + 1
        end
      end
    end
  end
  local kept = {}
  for i, id in ipairs(ids) do
    if victims[i] then
      -- An evicted session is revoked: its remember-me series ends with it (ADR 041), unless it
      -- is the new session's own.
      local series = records[i] and sessionSeries(records[i])
      if series and series ~= '' and series ~= own then
        redis.call('DEL', KEYS[7] .. series)
        indexRemove(KEYS[8], uid, series)
      end
      redis.call('DEL', prefix .. id)
      liveRemove(liveKey(KEYS[5], id, liveBuckets), id)
      evicted[#evicted + 1] = id
    else
      kept[#kept + 1] = id
    end
  end
  ids = kept
end
countUsers(indexSet(KEYS[3], uid, ids))
countSave()
return evicted
