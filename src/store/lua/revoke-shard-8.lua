--[[
  Ends every session and every remember-me series of one shard (`holdfast sessions revoke --all`:
  operators ending all users' sessions, ASVS V7.4.5). Atomic per shard: a session created or a
  series used on this shard either ran before (and is ended here) or runs after and finds its
  series gone. Credential epochs are kept: they still refuse what they refused before.

  KEYS[1] live prefix               {p:n}:live:    (bucket b: {p:n}:live:<b>)
  KEYS[2] user index prefix         {p:n}:users:   (bucket u: {p:n}:users:<u>)
  KEYS[3] session key prefix        {p:n}:s:
  KEYS[4] series user index prefix  {p:n}:rusers:  (bucket u: {p:n}:rusers:<u>)
  KEYS[5] series key prefix         {p:n}:r:
  KEYS[6] live counter              {p:n}:count   (set to zero: the indexes are empty after this)
  KEYS[7] due buckets               {p:n}:due     (deleted)
  KEYS[8] split state               {p:n}:reshard (ADR 260: waits while a user is being moved)

  ARGV[1] live buckets (LIVE_BUCKETS)
  ARGV[2] user-index buckets (USER_BUCKETS)

  Returns: { sessions ended, series ended } (records that had already gone are not counted); -3
  while a user's data is being copied to another shard (the engine sends it again: a copy taken
  before this script must not outlive it).
]]
-- @include "includes/live-count.lua"
-- @include "includes/user-index.lua"

-- Deletes every id listed in the index buckets `prefix`..u (and the buckets); returns how many
-- of the records `keyPrefix`..id existed.
local function endIndexed(prefix, keyPrefix, buckets)
  local ended = 0
  for u = 0, buckets - 1 do
    local index = prefix .. u
    for _, value in ipairs(redis.call('HVALS', index)) do
      for _, id in ipairs(indexDecode(value)) do
        ended = ended + redis.call('DEL', keyPrefix .. id)
      end
    end
    redis.call('DEL', index)
  end
  return ended
end

if tonumber(redis.call('HGET', KEYS[8], '#m') or '0') > 0 then return -3 end
local userBuckets = tonumber(ARGV[2])
local sessions = endIndexed(KEYS[2], KEYS[3], userBuckets)
local series = endIndexed(KEYS[4], KEYS[5], userBuckets)
for b = 0, tonumber(ARGV[1]) - 1 do redis.call('DEL', KEYS[1] .. b) end
-- Every index of the shard is empty now, so the counter is exact even where none was built.
redis.call('DEL', KEYS[7])
redis.call('SET', KEYS[6], countWrite(0, 0, NO_DUE))
return { sessions, series }
