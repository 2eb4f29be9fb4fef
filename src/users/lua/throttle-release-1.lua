--[[
  Un-counts one attempt (a success after a counted attempt), never below zero.

  KEYS[1] counter hash {c = attempts, l = last attempt ms}

  Returns: 0.
]]

local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
if c > 0 then redis.call('HINCRBY', KEYS[1], 'c', -1) end
return 0
