-- Reads a packed session record (src/store/record-codec.ts, formats 3 and 4) at its fixed
-- offsets. Lua strings are 1-based: codec byte offset n is position n + 1 here.
--   format 3: 1 version (3) | 2 flags (bit 7: has series) | 41..52 lastSeenAt, expiresAt (touch
--     writes them) | 47..52 expiresAt (u48 big-endian ms) | 59 uid length | 60.. uid
--   format 4: 1 version (4) | 2 flags | 9..20 lastSeenAt, expiresAt | 15..20 expiresAt
--     | 43 uid length | 44.. uid
--   then, in both, length-prefixed ip, device label and (with bit 7) series id.
-- Any other version, formats 1 and 2 included, reads as malformed (nil below).

-- Per version: minimum length, position of expiresAt, position of the uid length byte, and the
-- 0-based codec offset of lastSeenAt (SETRANGE takes 0-based offsets).
local SESSION_LAYOUTS = {
  [3] = { min = 61, deadline = 47, uid = 59, touch = 40 },
  [4] = { min = 45, deadline = 15, uid = 43, touch = 8 },
}

-- The record's layout, or nil when the record is malformed.
local function sessionLayout(rec)
  local layout = SESSION_LAYOUTS[string.byte(rec, 1)]
  if layout and #rec >= layout.min then return layout end
  return nil
end

local function validSession(rec)
  return sessionLayout(rec) ~= nil
end

-- The stored idle deadline, or nil when the record is malformed.
local function sessionDeadline(rec)
  local layout = sessionLayout(rec)
  if not layout then return nil end
  return (struct.unpack('>I6', rec, layout.deadline))
end

-- The 0-based offset (for SETRANGE) of lastSeenAt, followed by expiresAt; nil when malformed.
local function touchOffset(rec)
  local layout = sessionLayout(rec)
  return layout and layout.touch
end

-- The owner's user id, or nil when the record is malformed.
local function sessionOwner(rec)
  local layout = sessionLayout(rec)
  if not layout then return nil end
  local at = layout.uid
  local len = string.byte(rec, at)
  if len == 0 or at + len > #rec then return nil end
  return string.sub(rec, at + 1, at + len)
end

-- The remember-me series the session belongs to: '' for none, nil when the record is malformed.
local function sessionSeries(rec)
  local layout = sessionLayout(rec)
  if not layout then return nil end
  if string.byte(rec, 2) < 128 then return '' end
  local pos = layout.uid
  for _ = 1, 3 do -- skip uid, ip, device label
    local len = string.byte(rec, pos)
    if not len then return nil end
    pos = pos + 1 + len
  end
  local len = string.byte(rec, pos)
  if not len or len == 0 or pos + len > #rec then return nil end
  return string.sub(rec, pos + 1, pos + len)
end

-- The credential version the session was made under (its last n bytes, n in the flags' bits 4-6;
-- none: 0), or nil when the record is malformed.
local function sessionCredentialVersion(rec)
  if not sessionLayout(rec) then return nil end
  local n = math.floor(string.byte(rec, 2) / 16) % 8
  if n > 4 then return nil end
  local version = 0
  for i = #rec - n + 1, #rec do version = version * 256 + string.byte(rec, i) end
  return version
end
