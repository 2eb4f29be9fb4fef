--[[
  Ends one session and the remember-me series it belongs to (ADR 041); with an owner check, only
  if it belongs to that user.

  KEYS[1] session record            {p:n}:s:<sid>
  KEYS[2] live index                {p:n}:live:<liveBucketOf(sid)>
  KEYS[3] user index prefix         {p:n}:users:   (the owner, read from the record, picks the bucket)
  KEYS[4] series key prefix         {p:n}:r:
  KEYS[5] series user index prefix  {p:n}:rusers:  (likewise)
  KEYS[6] live counter              {p:n}:count    (includes/live-count.lua, ADR 180)
  KEYS[7] due buckets               {p:n}:due      (declared for the slot; a removal leaves it)
  KEYS[8] split state               {p:n}:reshard (includes/reshard.lua, ADR 260)

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
-- @include "includes/remember-link.lua"
-- @include "includes/live-count.lua"
-- @include "includes/reshard.lua"

local rec = readRecord(KEYS[1])
if not rec then return 0 end
local owner = sessionOwner(rec)
if not owner then return -1 end
local moving = reshardState(KEYS[8], owner)
if moving then return moving end
if ARGV[2] == '1' and owner ~= ARGV[3] then return 0 end

local buckets = tonumber(ARGV[4])
countOpen(KEYS[6], KEYS[7])
redis.call('DEL', KEYS[1])
liveRemove(KEYS[2], ARGV[1])
countUsers(indexRemove(userIndexKey(KEYS[3], owner, buckets), owner, ARGV[1]))
countSave()
endSessionSeries(rec, owner, KEYS[4], KEYS[5], buckets)
return 1
