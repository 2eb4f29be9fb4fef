--[[
  Takes, keeps or gives back a lease held by one process at a time (the expiry sweeper's, ADR 230):
  nodes that all run a sweeper do not all sweep. A holder that stops giving signs of life loses it
  when the key expires, and another process takes it on its next attempt.

  KEYS[1] lease key   {p}:sweep-lease

  ARGV[1] owner: the process's id (host, pid and a random part; no secret)
  ARGV[2] lease time (ms); 0 gives the lease back when `owner` holds it

  Returns: 1 `owner` holds the lease (taken or extended), 0 another process does (or given back).
]]

local owner, ttl = ARGV[1], tonumber(ARGV[2])
local holder = redis.call('GET', KEYS[1])
if ttl <= 0 then
  if holder == owner then redis.call('DEL', KEYS[1]) end
  return 0
end
if not holder then
  redis.call('SET', KEYS[1], owner, 'PX', ttl)
  return 1
end
if holder == owner then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
end
return 0
