-- Reads a packed session record (src/store/record-codec.ts, format 2) at its fixed offsets.
-- Lua strings are 1-based: codec byte offset n is position n + 1 here.
--   1 version (2) | 41..52 lastSeenAt, expiresAt (touch writes them) | 47..52 expiresAt
--   (u48 big-endian ms) | 59 uid length | 60.. uid
-- Any other version, format 1 included, reads as malformed (nil below).

local function validSession(rec)
  return #rec >= 61 and string.byte(rec, 1) == 2
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
