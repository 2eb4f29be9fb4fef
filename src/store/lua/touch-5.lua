--[[
  Renews a live session: writes lastSeenAt and expiresAt in place (SETRANGE at the record's
  touchOffset: codec offset 40 in format 3, 8 in format 4, includes/session-record.lua) and moves
  the key TTL and the live-index score. Applies only when the record exists and its
  stored deadline is still ahead, so a request racing a logout cannot resurrect the session.

  KEYS[1] session record  {p:n}:s:<sid>
  KEYS[2] live index      {p:n}:live:<liveBucketOf(sid)>
  KEYS[3] live counter    {p:n}:count   (includes/live-count.lua, ADR 180)
  KEYS[4] due buckets     {p:n}:due     (written only when the deadline moves earlier)
  KEYS[5] split state     {p:n}:reshard   (includes/reshard.lua, ADR 260)

  ARGV[1] 12 bytes: lastSeenAt, expiresAt (u48 big-endian each; record-codec encodeTouch, the
          same bytes for either format)
  ARGV[2] expiresAt (ms)
  ARGV[3] sweep grace (ms)
  ARGV[4] now (ms)
  ARGV[5] sid
  ARGV[6] live buckets (LIVE_BUCKETS)

  Returns: 1 renewed, 0 absent or expired, -1 malformed record (left as is: neither format 3
  nor 4, or shorter than its format's fixed part).
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/buckets.lua"
-- @include "includes/live-count.lua"
-- @include "includes/reshard.lua"

local rec = readRecord(KEYS[1])
if not rec then return 0 end
local moving = reshardState(KEYS[5], sessionOwner(rec) or '')
if moving then return moving end
local deadline = sessionDeadline(rec)
if not deadline then return -1 end
if deadline <= tonumber(ARGV[4]) then return 0 end

redis.call('SETRANGE', KEYS[1], touchOffset(rec), ARGV[1])
redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[5])
-- A renewal moves the deadline later: the counter's bounds stay valid. An earlier one (shorter
-- settings since) must lower them, or the count would not sweep the entry in time.
if tonumber(ARGV[2]) < deadline and countOpen(KEYS[3], KEYS[4]) then
  countScored(liveBucket(ARGV[5], tonumber(ARGV[6])), ARGV[2])
  countSave()
end
return 1
