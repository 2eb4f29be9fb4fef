-- The buckets of a shard's indexes (src/store/keys.ts: liveBucketOf, userBucketOf, LIVE_BUCKETS,
-- USER_BUCKETS). Node computes the same functions; both must stay equal.

local BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

-- The base64url digit of one byte ('' or a byte outside the alphabet: 0).
local function base64Digit(c)
  if c == '' then return 0 end
  local i = string.find(BASE64URL, c, 1, true)
  return i and i - 1 or 0
end

-- The live bucket of a session id: the first byte of the decoded id mod `n`.
local function liveBucket(sid, n)
  local first = base64Digit(string.sub(sid, 1, 1)) * 4 + math.floor(base64Digit(string.sub(sid, 2, 2)) / 16)
  return first % n
end

-- The live sub-index of a session id, appended to the shard's live prefix {p:n}:live:
local function liveKey(prefix, sid, n)
  return prefix .. liveBucket(sid, n)
end

-- The user index of a user id: the first byte of SHA-1(uid) mod `n`, appended to the shard's
-- users prefix {p:n}:users: (or {p:n}:rusers: for remember-me series).
local function userIndexKey(prefix, uid, n)
  return prefix .. (tonumber(string.sub(redis.sha1hex(uid), 1, 2), 16) % n)
end
