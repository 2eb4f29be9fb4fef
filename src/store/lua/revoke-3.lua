--[[
  Ends one session; with an owner check, only if it belongs to that user.

  KEYS[1] session record     {p:n}:s:<sid>
  KEYS[2] live index         {p:n}:live:<liveBucketOf(sid)>
  KEYS[3] user index prefix  {p:n}:users:   (the owner, read from the record, picks the bucket)

  ARGV[1] sid
  ARGV[2] '1' to check the owner, '0' not to
  ARGV[3] expected owner userId (ignored without the check)
  ARGV[4] user-index buckets (USER_BUCKETS)

  Returns: 1 revoked, 0 absent or owned by someone else, -1 malformed record (left as is).
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"

local rec = readRecord(KEYS[1])
if not rec then return 0 end
local owner = sessionOwner(rec)
if not owner then return -1 end
if ARGV[2] == '1' and owner ~= ARGV[3] then return 0 end

redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
indexRemove(userIndexKey(KEYS[3], owner, tonumber(ARGV[4])), owner, ARGV[1])
return 1
