--[[
  Read-only: the records of a user's sessions, oldest first, in one round trip. Deadlines are
  checked and records decoded by the caller.

  KEYS[1] user index          {p:n}:users:<userBucketOf(userId)>
  KEYS[2] session key prefix  {p:n}:s:
  KEYS[3] split state         {p:n}:reshard (includes/reshard.lua, ADR 260; frozen data is listed)

  ARGV[1] userId

  Returns: flat array sid1, record1, sid2, record2, ... for records that exist ('' for a
  value that is not a string, so the caller counts it as malformed).
]]
-- @include "includes/read-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/reshard.lua"

if reshardState(KEYS[3], ARGV[1]) == RESHARD_MOVED then return RESHARD_MOVED end
local out = {}
for _, id in ipairs(indexGet(KEYS[1], ARGV[1])) do
  local rec = readRecord(KEYS[2] .. id)
  if rec then
    out[#out + 1] = id
    out[#out + 1] = rec
  end
end
return out
