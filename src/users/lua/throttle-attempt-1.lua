--[[
  Counts one failed attempt, unless the caller must still wait (exponential delay past the limit).
  One key per call, so never CROSSSLOT.

  KEYS[1] counter hash {c = attempts, l = last attempt ms}

  ARGV[1] now (ms)
  ARGV[2] limit: attempts allowed before delays start
  ARGV[3] base delay (ms), doubled per attempt past the limit
  ARGV[4] max delay (ms)
  ARGV[5] window (ms): the counter's lifetime after the last attempt (at least the max delay)

  Returns: ms left to wait (nothing counted), or 0 after counting the attempt.
]]

local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
local l = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local base, max, window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if c >= limit then
  local d = math.min(max, base * 2 ^ math.min(c - limit, 40))
  local left = l + d - now
  if left > 0 then return math.ceil(left) end
end
redis.call('HSET', KEYS[1], 'c', c + 1, 'l', now)
redis.call('PEXPIRE', KEYS[1], math.max(window, max))
return 0
