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
-- call and only when a 16-char id shows up.
local B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
local b64Digit, b64Byte

local function b64Tables()
  b64Digit, b64Byte = {}, {}
  for d = 0, 63 do
    local c = string.byte(B64_ALPHABET, d + 1)
    b64Digit[c] = d
    b64Byte[d] = c
  end
end

-- The 12 bytes a 16-char base64url id decodes to, or nil for any other id (kept as text).
local function packId(id)
  if #id ~= 16 then return nil end
  if not b64Digit then b64Tables() end
  local out = {}
  for g = 0, 3 do
    local a, b, c, d = string.byte(id, g * 4 + 1, g * 4 + 4)
    a, b, c, d = b64Digit[a], b64Digit[b], b64Digit[c], b64Digit[d]
    if not (a and b and c and d) then return nil end
    local n = ((a * 64 + b) * 64 + c) * 64 + d
    out[g * 3 + 1] = math.floor(n / 65536)
    out[g * 3 + 2] = math.floor(n / 256) % 256
    out[g * 3 + 3] = n % 256
  end
  return string.char(unpack(out))
end

-- The 16-char id of the 12 raw bytes of `value` from position i.
local function unpackId(value, i)
  if not b64Byte then b64Tables() end
  local out = {}
  for g = 0, 3 do
    local x, y, z = string.byte(value, i + g * 3, i + g * 3 + 2)
    local n = (x * 256 + y) * 256 + z
    out[g * 4 + 1] = b64Byte[math.floor(n / 262144)]
    out[g * 4 + 2] = b64Byte[math.floor(n / 4096) % 64]
    out[g * 4 + 3] = b64Byte[math.floor(n / 64) % 64]
    out[g * 4 + 4] = b64Byte[n % 64]
  end
  return string.char(unpack(out))
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
