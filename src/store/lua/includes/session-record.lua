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
