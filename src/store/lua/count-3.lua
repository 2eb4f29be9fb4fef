--[[
  Counts one shard's live sessions and users after sweeping up to a bounded number of expired
  index entries (so a count never blocks the server for long). For each expired entry the owner
  is read from the record at its fixed offset, the sid leaves the owner's index, and record and
  live entry are deleted. An entry whose record was renewed past `now` is re-scored, not swept.

  KEYS[1] live index          {p:n}:live
  KEYS[2] user index          {p:n}:users
  KEYS[3] session key prefix  {p:n}:s:

  ARGV[1] now (ms)
  ARGV[2] most entries to sweep

  Returns: { live sessions (ZCOUNT (now, +inf]), users (HLEN), swept, malformed records swept }
]]
-- @include "includes/read-record.lua"
-- @include "includes/session-record.lua"
-- @include "includes/user-index.lua"

local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local swept, malformed = 0, 0
for _, sid in ipairs(due) do
  local key = KEYS[3] .. sid
  local rec = readRecord(key)
  local deadline = rec and sessionDeadline(rec)
  if deadline and deadline > now then
    redis.call('ZADD', KEYS[1], deadline, sid)
  else
    if rec then
      local owner = sessionOwner(rec)
      if owner then indexRemove(KEYS[2], owner, sid) else malformed = malformed + 1 end
      redis.call('DEL', key)
    end
    redis.call('ZREM', KEYS[1], sid)
    swept = swept + 1
  end
end
return { redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf'), redis.call('HLEN', KEYS[2]), swept, malformed }
