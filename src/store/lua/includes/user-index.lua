-- A per-shard HASH userId -> the user's ids, oldest first (sessions in `users`, remember-me series
-- in `rusers`). HLEN counts users; a user with no ids has no field. indexSet and indexRemove
-- return how HLEN changed (+1, -1 or 0) for the shard's live counter (includes/live-count.lua).
--
-- A value, the same in every format (no flag: format 4 ids simply start to appear in it):
--   <text ids, space-separated>[ "\0" <compact ids, 12 raw bytes each> ]
-- Compact ids are those of exactly 16 base64url chars (format 4, 96 bits), stored as the 12 bytes
-- they decode to; every other id (22-char ids of older formats, anything else) stays text. The
-- "\0" and the raw part are there only when there is a compact id, so a value holding none is
-- byte for byte the older format, read and written unchanged. Both parts keep their ids oldest
-- first and text ids come first: a deployment moves from 22-char to 16-char ids and never back,
-- so text ids are the older ones. Ids never hold whitespace or "\0".
-- Why: Redis keeps a HASH as a listpack only while every value is <= 64 bytes
-- (hash-max-listpack-value); 5 compact ids take 1 + 60 bytes, where three 22-char ids (68 bytes)
-- already turn the whole bucket (hundreds of users) into a hashtable at about 3x the memory.

-- base64url digit of a byte (nil outside the alphabet) and byte of a digit, built once per script
-- call and only when a 16-char id shows up. The conversions are unrolled (no table per id): a
-- decode + encode of 5 ids took 9 us instead of 20 with loops over a table (Redis 7.0 here; 3 us
-- for 5 text ids).
local B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
local sbyte, schar, floor = string.byte, string.char, math.floor
local b64Digit, b64Byte

local function b64Tables()
  b64Digit, b64Byte = {}, {}
  for d = 0, 63 do
    local c = sbyte(B64_ALPHABET, d + 1)
    b64Digit[c] = d
    b64Byte[d] = c
  end
end

-- The 12 bytes a 16-char base64url id decodes to, or nil for any other id (kept as text).
local function packId(id)
  if #id ~= 16 then return nil end
  if not b64Digit then b64Tables() end
  local D = b64Digit
  local a1, a2, a3, a4, b1, b2, b3, b4, c1, c2, c3, c4, d1, d2, d3, d4 = sbyte(id, 1, 16)
  a1, a2, a3, a4 = D[a1], D[a2], D[a3], D[a4]
  b1, b2, b3, b4 = D[b1], D[b2], D[b3], D[b4]
  c1, c2, c3, c4 = D[c1], D[c2], D[c3], D[c4]
  d1, d2, d3, d4 = D[d1], D[d2], D[d3], D[d4]
  if not (a1 and a2 and a3 and a4 and b1 and b2 and b3 and b4) then return nil end
  if not (c1 and c2 and c3 and c4 and d1 and d2 and d3 and d4) then return nil end
  -- Each 4 digits (24 bits) are 3 bytes.
  local a = ((a1 * 64 + a2) * 64 + a3) * 64 + a4
  local b = ((b1 * 64 + b2) * 64 + b3) * 64 + b4
  local c = ((c1 * 64 + c2) * 64 + c3) * 64 + c4
  local d = ((d1 * 64 + d2) * 64 + d3) * 64 + d4
  return schar(
    floor(a / 65536), floor(a / 256) % 256, a % 256,
    floor(b / 65536), floor(b / 256) % 256, b % 256,
    floor(c / 65536), floor(c / 256) % 256, c % 256,
    floor(d / 65536), floor(d / 256) % 256, d % 256)
end

-- The 16-char id of the 12 raw bytes of `value` from position i.
local function unpackId(value, i)
  if not b64Byte then b64Tables() end
  local B = b64Byte
  local a1, a2, a3, b1, b2, b3, c1, c2, c3, d1, d2, d3 = sbyte(value, i, i + 11)
  local a = (a1 * 256 + a2) * 256 + a3
  local b = (b1 * 256 + b2) * 256 + b3
  local c = (c1 * 256 + c2) * 256 + c3
  local d = (d1 * 256 + d2) * 256 + d3
  return schar(
    B[floor(a / 262144)], B[floor(a / 4096) % 64], B[floor(a / 64) % 64], B[a % 64],
    B[floor(b / 262144)], B[floor(b / 4096) % 64], B[floor(b / 64) % 64], B[b % 64],
    B[floor(c / 262144)], B[floor(c / 4096) % 64], B[floor(c / 64) % 64], B[c % 64],
    B[floor(d / 262144)], B[floor(d / 4096) % 64], B[floor(d / 64) % 64], B[d % 64])
end

-- The ids of one value, text ones first, each part oldest first.
local function indexDecode(value)
  local ids = {}
  local cut = string.find(value, '\0', 1, true)
  local text = cut and string.sub(value, 1, cut - 1) or value
  for id in string.gmatch(text, '%S+') do ids[#ids + 1] = id end
  if cut then
    for i = cut + 1, #value - 11, 12 do ids[#ids + 1] = unpackId(value, i) end
  end
  return ids
end

-- The value of ids (oldest first): text ids in their order, then the compact ones in theirs.
local function indexEncode(ids)
  local text, raw = {}, {}
  for _, id in ipairs(ids) do
    local packed = packId(id)
    if packed then raw[#raw + 1] = packed else text[#text + 1] = id end
  end
  local value = table.concat(text, ' ')
  if #raw > 0 then value = value .. '\0' .. table.concat(raw) end
  return value
end

local function indexGet(key, uid)
  local value = redis.call('HGET', key, uid)
  if value then return indexDecode(value) end
  return {}
end

local function indexSet(key, uid, ids)
  if #ids == 0 then
    return -redis.call('HDEL', key, uid)
  end
  return redis.call('HSET', key, uid, indexEncode(ids))
end

local function indexRemove(key, uid, id)
  local ids = indexGet(key, uid)
  local rest = {}
  for _, x in ipairs(ids) do
    if x ~= id then rest[#rest + 1] = x end
  end
  if #rest ~= #ids then return indexSet(key, uid, rest) end
  return 0
end
