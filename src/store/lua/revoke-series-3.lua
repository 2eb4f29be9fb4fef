--[[
  Ends a remember-me series (logout), only when the presented token is its current one, or its
  previous one within the grace window after a rotation: a series id alone ends nothing.

  KEYS[1] series record             {p:n}:r:<series>
  KEYS[2] series user index prefix  {p:n}:rusers:   (the owner, read from the record, picks the bucket)
  KEYS[3] split state               {p:n}:reshard (includes/reshard.lua, ADR 260)

  ARGV[1] series id
  ARGV[2] now (ms)
  ARGV[3] user-index buckets (USER_BUCKETS)
  ARGV[4] presented token hash (32 bytes)
  ARGV[5] grace (ms)

  Returns: 1 revoked, 0 absent, expired or another token, -1 malformed record (left as is).
]]
-- @include "includes/read-record.lua"
-- @include "includes/series-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/reshard.lua"

local rec = readRecord(KEYS[1])
if not rec then return 0 end
local series = parseSeries(rec)
if not series then return -1 end
local moving = reshardState(KEYS[3], series.uid)
if moving then return moving end
local now = tonumber(ARGV[2])
if series.expiresAt <= now then return 0 end
local current = series.token == ARGV[4]
local previous = series.previous == ARGV[4] and now - series.rotatedAt <= tonumber(ARGV[5])
if not current and not previous then return 0 end
redis.call('DEL', KEYS[1])
indexRemove(userIndexKey(KEYS[2], series.uid, tonumber(ARGV[3])), series.uid, ARGV[1])
return 1
