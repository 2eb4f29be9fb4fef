--[[
  Sweeps one shard's expired entries and answers its exact live counts. Run by the expiry sweeper
  (src/store/expiry-sweeper.ts, ADR 230) for every shard whose counter says an entry may be due;
  a count runs it only for a shard with no counter yet, or one the sweeper let lag past the
  count's bound (no sweeper running): otherwise a count reads counters alone (ADR 180, 230).
  1. No counter (data written before counters existed, or a malformed one): builds it from the
     indexes (sum of ZCARD, sum of HLEN, each bucket's lowest score), all in this one script.
  2. Sweeps up to a bounded number of expired entries, visiting only the buckets the due ZSET
     names: for each, the owner is read from the record at its fixed offset, the sid leaves the
     owner's index, and record and live entry are deleted. An entry whose record was renewed past
     `now` is re-scored, not swept. Each visited bucket's bound is then set to its lowest score.
  3. Live sessions = counted entries minus those still due when the budget ran out (ZCOUNT of the
     buckets still due), so the answer is exact however many expired at once.

  KEYS[1] live prefix         {p:n}:live:    (bucket b: {p:n}:live:<b>)
  KEYS[2] user index prefix   {p:n}:users:   (bucket u: {p:n}:users:<u>)
  KEYS[3] session key prefix  {p:n}:s:
  KEYS[4] live counter        {p:n}:count    (includes/live-count.lua)
  KEYS[5] due buckets         {p:n}:due

  ARGV[1] now (ms)
  ARGV[2] most entries to sweep (over all buckets of the shard)
  ARGV[3] live buckets (LIVE_BUCKETS)
  ARGV[4] user-index buckets (USER_BUCKETS)
  ARGV[5] '1' to rebuild the counter from the indexes even when it exists (repair), else '0'

  Returns: { live sessions, users (sum of HLEN), swept, malformed records swept, counter: 0 as it
  was, 1 built where there was none, 2 rebuilt because it differed from the indexes, entries
  still due (the budget ran out: the sweeper runs the shard again) }
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/live-count.lua"

local now = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local liveBuckets, userBuckets = tonumber(ARGV[3]), tonumber(ARGV[4])
local swept, malformed, rebuilt = 0, 0, 0

local function lowest(zkey)
  local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
  return first[2] and tonumber(first[2]) or nil
end

-- Sets bucket b's bound to its lowest score (or drops it when empty).
local function bound(b)
  local low = lowest(KEYS[1] .. b)
  if low then redis.call('ZADD', KEYS[5], low, b) else redis.call('ZREM', KEYS[5], b) end
end

local function shardDue()
  local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
  return first[2] and tonumber(first[2]) or NO_DUE
end

-- The indexes' own figures; in repair mode they are compared first, and only a counter that
-- differs is rewritten (a check alone writes nothing).
local function indexed()
  local entries, users = 0, 0
  for b = 0, liveBuckets - 1 do entries = entries + redis.call('ZCARD', KEYS[1] .. b) end
  for u = 0, userBuckets - 1 do users = users + redis.call('HLEN', KEYS[2] .. u) end
  return entries, users
end

local built = countOpen(KEYS[4], KEYS[5])
local entries, users
if built and ARGV[5] == '1' then
  entries, users = indexed()
  if counted.entries ~= entries or counted.users ~= users then rebuilt = 2 end
elseif not built then
  entries, users = indexed()
  rebuilt = 1
end
if rebuilt > 0 then
  redis.call('DEL', KEYS[5])
  for b = 0, liveBuckets - 1 do bound(b) end
  redis.call('SET', KEYS[4], countWrite(entries, users, shardDue()))
  countOpen(KEYS[4], KEYS[5])
end

if counted.due <= now then
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)) do
    if budget <= 0 then break end
    local zkey = KEYS[1] .. member
    local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, budget)
    budget = budget - #due
    for _, sid in ipairs(due) do
      local key = KEYS[3] .. sid
      local rec = readRecord(key)
      local deadline = rec and sessionDeadline(rec)
      if deadline and deadline > now then
        redis.call('ZADD', zkey, deadline, sid)
      else
        if rec then
          local owner = sessionOwner(rec)
          if owner then
            countUsers(indexRemove(userIndexKey(KEYS[2], owner, userBuckets), owner, sid))
          else
            malformed = malformed + 1
          end
          redis.call('DEL', key)
        end
        liveRemove(zkey, sid)
        swept = swept + 1
      end
    end
    bound(member)
  end
  counted.due = shardDue()
  counted.dirty = true
  countSave()
end

-- Entries still due (the budget ran out) are in the counter but not alive.
local live = counted.entries
if counted.due <= now then
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)) do
    live = live - redis.call('ZCOUNT', KEYS[1] .. member, '-inf', now)
  end
end
return { live, counted.users, swept, malformed, rebuilt, counted.entries - live }
