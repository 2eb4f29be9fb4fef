-- The count script before ADR 180 (src/store/lua/count-3.lua at 20edde5, includes inlined), kept
-- only so bench/count.ts can time it beside the counters on the same data in one run.
--[[
  Counts one shard's live sessions and users after sweeping up to a bounded number of expired
  index entries (so a count never blocks the server for long). Iterates the shard's live buckets
  and user-index buckets here, so a count stays one script per shard. For each expired entry the
  owner is read from the record at its fixed offset, the sid leaves the owner's index, and record
  and live entry are deleted. An entry whose record was renewed past `now` is re-scored, not swept.

  KEYS[1] live prefix         {p:n}:live:    (bucket b: {p:n}:live:<b>)
  KEYS[2] user index prefix   {p:n}:users:   (bucket u: {p:n}:users:<u>)
  KEYS[3] session key prefix  {p:n}:s:

  ARGV[1] now (ms)
  ARGV[2] most entries to sweep (over all buckets of the shard)
  ARGV[3] live buckets (LIVE_BUCKETS)
  ARGV[4] user-index buckets (USER_BUCKETS)

  Returns: { live sessions (sum of ZCOUNT (now, +inf]), users (sum of HLEN), swept,
  malformed records swept }
]]
-- begin includes/read-record.lua
-- Reads a record key. Absent: nil. Not a string (a foreign value): '' so the caller's parser
-- rejects it as malformed instead of the script failing with WRONGTYPE.
local function readRecord(key)
  local rec = redis.pcall('GET', key)
  if type(rec) ~= 'string' then
    if type(rec) == 'table' and rec.err then return '' end
    return nil
  end
  return rec
end
-- end includes/read-record.lua
-- begin includes/session-record.lua
-- Reads a packed session record (src/store/record-codec.ts, format 3) at its fixed offsets.
-- Lua strings are 1-based: codec byte offset n is position n + 1 here.
--   1 version (3) | 2 flags (bit 7: has series) | 41..52 lastSeenAt, expiresAt (touch writes
--   them) | 47..52 expiresAt (u48 big-endian ms) | 59 uid length | 60.. uid, then length-prefixed
--   ip, device label and (with bit 7) series id
-- Any other version, formats 1 and 2 included, reads as malformed (nil below).

local function validSession(rec)
  return #rec >= 61 and string.byte(rec, 1) == 3
end

-- The stored idle deadline, or nil when the record is malformed.
local function sessionDeadline(rec)
  if not validSession(rec) then return nil end
  return (struct.unpack('>I6', rec, 47))
end

-- The owner's user id, or nil when the record is malformed.
local function sessionOwner(rec)
  if not validSession(rec) then return nil end
  local len = string.byte(rec, 59)
  if len == 0 or 59 + len > #rec then return nil end
  return string.sub(rec, 60, 59 + len)
end

-- The remember-me series the session belongs to: '' for none, nil when the record is malformed.
local function sessionSeries(rec)
  if not validSession(rec) then return nil end
  if string.byte(rec, 2) < 128 then return '' end
  local pos = 59
  for _ = 1, 3 do -- skip uid, ip, device label
    local len = string.byte(rec, pos)
    if not len then return nil end
    pos = pos + 1 + len
  end
  local len = string.byte(rec, pos)
  if not len or len == 0 or pos + len > #rec then return nil end
  return string.sub(rec, pos + 1, pos + len)
end
-- end includes/session-record.lua
-- begin includes/user-index.lua
-- A per-shard HASH userId -> space-separated ids, oldest first (sessions in `users`, remember-me
-- series in `rusers`). HLEN counts users; a user with no ids has no field.

local function indexGet(key, uid)
  local ids = {}
  local value = redis.call('HGET', key, uid)
  if value then
    for id in string.gmatch(value, '%S+') do ids[#ids + 1] = id end
  end
  return ids
end

local function indexSet(key, uid, ids)
  if #ids == 0 then
    redis.call('HDEL', key, uid)
  else
    redis.call('HSET', key, uid, table.concat(ids, ' '))
  end
end

local function indexRemove(key, uid, id)
  local ids = indexGet(key, uid)
  local rest = {}
  for _, x in ipairs(ids) do
    if x ~= id then rest[#rest + 1] = x end
  end
  if #rest ~= #ids then indexSet(key, uid, rest) end
end
-- end includes/user-index.lua
-- begin includes/buckets.lua
-- The buckets of a shard's indexes (src/store/keys.ts: liveBucketOf, userBucketOf, LIVE_BUCKETS,
-- USER_BUCKETS). Node computes the same functions; both must stay equal.

local BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

-- The base64url digit of one byte ('' or a byte outside the alphabet: 0).
local function base64Digit(c)
  if c == '' then return 0 end
  local i = string.find(BASE64URL, c, 1, true)
  return i and i - 1 or 0
end

-- The live sub-index of a session id: the first byte of the decoded id mod `n`, appended to
-- the shard's live prefix {p:n}:live:
local function liveKey(prefix, sid, n)
  local first = base64Digit(string.sub(sid, 1, 1)) * 4 + math.floor(base64Digit(string.sub(sid, 2, 2)) / 16)
  return prefix .. (first % n)
end

-- The user index of a user id: the first byte of SHA-1(uid) mod `n`, appended to the shard's
-- users prefix {p:n}:users: (or {p:n}:rusers: for remember-me series).
local function userIndexKey(prefix, uid, n)
  return prefix .. (tonumber(string.sub(redis.sha1hex(uid), 1, 2), 16) % n)
end
-- end includes/buckets.lua
local now = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local liveBuckets, userBuckets = tonumber(ARGV[3]), tonumber(ARGV[4])
local live, users, swept, malformed = 0, 0, 0, 0
for b = 0, liveBuckets - 1 do
  local zkey = KEYS[1] .. b
  if budget > 0 then
    local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', ARGV[1], 'LIMIT', 0, budget)
    budget = budget - #due
    for _, sid in ipairs(due) do
      local key = KEYS[3] .. sid
      local rec = readRecord(key)
      local deadline = rec and sessionDeadline(rec)
      if deadline and deadline > now then
        redis.call('ZADD', zkey, deadline, sid)
      else
        if rec then
          local owner = sessionOwner(rec)
          if owner then
            indexRemove(userIndexKey(KEYS[2], owner, userBuckets), owner, sid)
          else
            malformed = malformed + 1
          end
          redis.call('DEL', key)
        end
        redis.call('ZREM', zkey, sid)
        swept = swept + 1
      end
    end
  end
  live = live + redis.call('ZCOUNT', zkey, '(' .. ARGV[1], '+inf')
end
for u = 0, userBuckets - 1 do
  users = users + redis.call('HLEN', KEYS[2] .. u)
end
return { live, users, swept, malformed }

