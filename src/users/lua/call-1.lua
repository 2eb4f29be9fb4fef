--[[
  One command on one key, as a script: durableScript can then pin WAIT behind it on the writes
  connection (ADR 215).

  KEYS[1] the key the command works on

  ARGV[1] the command (e.g. HSET)
  ARGV[2..] its arguments after the key

  Returns: the command's reply.
]]

return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))
