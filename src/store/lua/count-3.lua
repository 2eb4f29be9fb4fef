--[[
  Counts one shard's live sessions and users after sweeping up to a bounded number of expired
  index entries (so a count never blocks the server for long). Iterates the shard's live buckets
  and user-index buckets here, so a count stays one script per shard. For each expired entry the
  owner is read from the record at its fixed offset, the sid leaves the owner's index, and record
  and live entry are deleted. An entry whose record was renewed past `now` is re-scored, not swept.

  KEYS[1] live prefix         {p:n}:live:    (bucket b: {p:n}:live:<b>)
  KEYS[2] user index prefix   {p:n}:users:   (bucket u: {p:n}:users:<u>)
  KEYS[3] session key prefix  {p:n}:s:

  ARGV[1] now (ms)
  ARGV[2] most entries to sweep (over all buckets of the shard)
  ARGV[3] live buckets (LIVE_BUCKETS)
  ARGV[4] user-index buckets (USER_BUCKETS)

  Returns: { live sessions (sum of ZCOUNT (now, +inf]), users (sum of HLEN), swept,
  malformed records swept }
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"

local now = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local liveBuckets, userBuckets = tonumber(ARGV[3]), tonumber(ARGV[4])
local live, users, swept, malformed = 0, 0, 0, 0
for b = 0, liveBuckets - 1 do
  local zkey = KEYS[1] .. b
  if budget > 0 then
    local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', ARGV[1], 'LIMIT', 0, budget)
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
            indexRemove(userIndexKey(KEYS[2], owner, userBuckets), owner, sid)
          else
            malformed = malformed + 1
          end
          redis.call('DEL', key)
        end
        redis.call('ZREM', zkey, sid)
        swept = swept + 1
      end
    end
  end
  live = live + redis.call('ZCOUNT', zkey, '(' .. ARGV[1], '+inf')
end
for u = 0, userBuckets - 1 do
  users = users + redis.call('HLEN', KEYS[2] .. u)
end
return { live, users, swept, malformed }
