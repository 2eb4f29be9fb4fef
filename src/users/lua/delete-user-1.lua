--[[
  Deletes a user record and says what it held, in one step: a password change that read the
  record before cannot apply after (its compare-and-set finds no record), and the caller learns
  which email index and which linked identities to release (ADR 150).

  KEYS[1] user record  {p:u:<userId>}  HASH (e email, cv credential version, o:<provider> subject)

  Returns: { credential version, email, provider, subject, provider, subject, ... } of the
  deleted record; -1 no such user.
]]
local record = redis.call('HGETALL', KEYS[1])
if #record == 0 then return -1 end
redis.call('DEL', KEYS[1])
local cv, email, linked = 0, '', {}
for i = 1, #record, 2 do
  local field, value = record[i], record[i + 1]
  if field == 'cv' then
    cv = tonumber(value) or 0
  elseif field == 'e' then
    email = value
  elseif string.sub(field, 1, 2) == 'o:' then
    linked[#linked + 1] = string.sub(field, 3)
    linked[#linked + 1] = value
  end
end
local reply = { cv, email }
for _, v in ipairs(linked) do reply[#reply + 1] = v end
return reply
