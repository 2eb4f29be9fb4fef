--[[
  Presents a remember-me token (as its SHA-256) to a series. The current token rotates; the
  previous token is accepted within the grace window after a rotation (parallel requests);
  anything else on a known series is theft and deletes the series. Hashes are compared here
  with plain string equality: they are digests of 256-bit secrets, so timing reveals nothing usable.
  A series below its user's credential epoch (it cannot exist: revoke-user ends every series
  when it raises the epoch) is deleted and reported missing.

  KEYS[1] series record             {p:n}:r:<series>
  KEYS[2] series user index prefix  {p:n}:rusers:   (the owner, read from the record, picks the bucket)
  KEYS[3] credential prefix         {p:n}:cred:     (likewise)
  KEYS[4] split state               {p:n}:reshard (includes/reshard.lua, ADR 260)

  ARGV[1] series id
  ARGV[2] presented token hash (32 bytes)
  ARGV[3] 71 bytes written at codec offset 1 on rotation: next hash, presented hash (now the
          previous), 0x01, rotatedAt (u48 big-endian)
  ARGV[4] now (ms)
  ARGV[5] grace (ms)
  ARGV[6] user-index buckets (USER_BUCKETS)

  Returns: { code, userId, credentialVersion }: 1 rotated, 2 grace; { 3, userId } theft (series
  deleted); { 0 } missing, expired or below the epoch; { -1 } malformed record (left as is).
]]
-- @include "includes/read-record.lua"
-- @include "includes/series-record.lua"
-- @include "includes/user-index.lua"
-- @include "includes/buckets.lua"
-- @include "includes/credentials.lua"
-- @include "includes/reshard.lua"

local rec = readRecord(KEYS[1])
if not rec then return { 0 } end
local series = parseSeries(rec)
if not series then return { -1 } end
local moving = reshardState(KEYS[4], series.uid)
if moving then return { moving } end
local now = tonumber(ARGV[4])
if series.expiresAt <= now then return { 0 } end
local buckets = tonumber(ARGV[6])
local uid = series.uid

local function drop()
  redis.call('DEL', KEYS[1])
  indexRemove(userIndexKey(KEYS[2], uid, buckets), uid, ARGV[1])
end

if series.credentialVersion < credentialEpoch(userIndexKey(KEYS[3], uid, buckets), uid) then
  drop()
  return { 0 }
end
if series.token == ARGV[2] then
  redis.call('SETRANGE', KEYS[1], 1, ARGV[3])
  return { 1, uid, series.credentialVersion }
end
if series.previous == ARGV[2] and now - series.rotatedAt <= tonumber(ARGV[5]) then
  return { 2, uid, series.credentialVersion }
end
drop()
return { 3, uid }
