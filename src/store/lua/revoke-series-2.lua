--[[
  Ends a remember-me series.

  KEYS[1] series record             {p:n}:r:<series>
  KEYS[2] series user index prefix  {p:n}:rusers:   (the owner, read from the record, picks the bucket)

  ARGV[1] series id
  ARGV[2] now (ms)
  ARGV[3] user-index buckets (USER_BUCKETS)

  Returns: 1 revoked, 0 absent or expired, -1 malformed record (left as is).
]]
-- @include "includes/read-record.lua"
-- @include "includes/series-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"

local rec = readRecord(KEYS[1])
if not rec then return 0 end
local series = parseSeries(rec)
if not series then return -1 end
if series.expiresAt <= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
indexRemove(userIndexKey(KEYS[2], series.uid, tonumber(ARGV[3])), series.uid, ARGV[1])
return 1
