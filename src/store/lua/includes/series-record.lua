-- Reads a packed remember-me series (src/store/record-codec.ts, format 2); 1-based positions:
--   1 version | 2..33 token hash | 34..65 previous hash | 66 has previous | 67..72 rotatedAt
--   73..78 expiresAt | 79..82 credentialVersion | 83 uid length | 84.. uid
-- Returns a table, or nil when the record is malformed.
local function parseSeries(rec)
  if #rec < 84 or string.byte(rec, 1) ~= 2 then return nil end
  local len = string.byte(rec, 83)
  if len == 0 or 83 + len ~= #rec then return nil end
  return {
    token = string.sub(rec, 2, 33),
    previous = string.byte(rec, 66) == 1 and string.sub(rec, 34, 65) or nil,
    rotatedAt = (struct.unpack('>I6', rec, 67)),
    expiresAt = (struct.unpack('>I6', rec, 73)),
    credentialVersion = (struct.unpack('>I4', rec, 79)),
    uid = string.sub(rec, 84, 83 + len),
  }
end
