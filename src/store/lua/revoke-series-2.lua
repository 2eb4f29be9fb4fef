--[[
  Ends a remember-me series.

  KEYS[1] series record      {p:n}:r:<series>
  KEYS[2] series user index  {p:n}:rusers

  ARGV[1] series id
  ARGV[2] now (ms)

  Returns: 1 revoked, 0 absent or expired, -1 malformed record (left as is).
]]
-- @include "includes/read-record.lua"
-- @include "includes/series-record.lua"
-- @include "includes/user-index.lua"

local rec = readRecord(KEYS[1])
if not rec then return 0 end
local series = parseSeries(rec)
if not series then return -1 end
if series.expiresAt <= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
indexRemove(KEYS[2], series.uid, ARGV[1])
return 1
