--[[
  Compare-and-set of a user's password (ADR 040). Writes the new hash only if the stored record
  still holds the hash the caller verified (a re-hash of the same password) or the credential
  version the caller read (a change): a re-hash can never write an old password over a newer
  one, and of two racing changes only one applies.

  KEYS[1] user record  {p:u:<userId>}  HASH (ph password hash, pc changed at, cv credential version)

  ARGV[1] 'hash' or 'version': what ARGV[2] holds
  ARGV[2] the expected stored hash, or the expected credential version
  ARGV[3] new password hash
  ARGV[4] passwordChangedAt (ms)
  ARGV[5] '1' to raise the credential version by one (a change), '0' to keep it (a re-hash)

  Returns: the credential version after the write; -1 no such user; -2 the stored hash or
  version is not the expected one (nothing written).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local stored = redis.call('HMGET', KEYS[1], 'ph', 'cv')
local version = tonumber(stored[2] or '0') or 0
if ARGV[1] == 'hash' then
  if stored[1] ~= ARGV[2] then return -2 end
elseif version ~= tonumber(ARGV[2]) then
  return -2
end
if ARGV[5] == '1' then version = version + 1 end
redis.call('HSET', KEYS[1], 'ph', ARGV[3], 'pc', ARGV[4], 'cv', version)
return version
