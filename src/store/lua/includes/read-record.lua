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
