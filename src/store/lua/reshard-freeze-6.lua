--[[
  Growing the shard count (ADR 260), step 1 of a user's move, on the user's old shard: marks the
  user frozen (every script that would change their data here answers MOVING until the release)
  and returns their data, to be imported on the new shard. Frozen again: the same data (resume).

  KEYS[1] user index          {p:s}:users:<userBucketOf(userId)>
  KEYS[2] session key prefix  {p:s}:s:
  KEYS[3] series user index   {p:s}:rusers:<userBucketOf(userId)>
  KEYS[4] series key prefix   {p:s}:r:
  KEYS[5] credential epochs   {p:s}:cred:<userBucketOf(userId)>
  KEYS[6] split state         {p:s}:reshard (includes/reshard.lua)

  ARGV[1] userId

  Returns: -4 when the user moved already; else { sessions, series, epoch }: sessions and series
  flat arrays id1, record1, pttl1, id2, ... (records that exist), epoch the credential epoch or ''.
]]
-- @include "includes/user-index.lua"
-- @include "includes/read-record.lua"

local uid = ARGV[1]
local state = redis.call('HGET', KEYS[6], uid)
if state == 'd' then return -4 end
if state ~= 'm' then
  redis.call('HSET', KEYS[6], uid, 'm')
  redis.call('HINCRBY', KEYS[6], '#m', 1)
end

local function dump(index, prefix)
  local out = {}
  for _, id in ipairs(indexGet(index, uid)) do
    local rec = readRecord(prefix .. id)
    local ttl = redis.call('PTTL', prefix .. id)
    if rec and rec ~= '' and ttl > 0 then
      out[#out + 1] = id
      out[#out + 1] = rec
      out[#out + 1] = ttl
    end
  end
  return out
end

return { dump(KEYS[1], KEYS[2]), dump(KEYS[3], KEYS[4]), redis.call('HGET', KEYS[5], uid) or '' }
