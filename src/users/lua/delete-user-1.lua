--[[
  Deletes a user record and says what it held, in one step: a password change that read the
  record before cannot apply after (its compare-and-set finds no record).

  KEYS[1] user record  {p:u:<userId>}  HASH (e email, cv credential version)

  Returns: { credential version, email } of the deleted record; -1 no such user.
]]
local fields = redis.call('HMGET', KEYS[1], 'e', 'cv')
if redis.call('DEL', KEYS[1]) == 0 then return -1 end
return { tonumber(fields[2] or '0') or 0, fields[1] or '' }
