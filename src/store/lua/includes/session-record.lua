-- Reads a packed session record (src/store/record-codec.ts, format 1) at its fixed offsets.
-- Lua strings are 1-based: codec byte offset n is position n + 1 here.
--   1 version | 47..52 expiresAt (u48 big-endian ms) | 59 uid length | 60.. uid

local function validSession(rec)
  return #rec >= 61 and string.byte(rec, 1) == 1
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
