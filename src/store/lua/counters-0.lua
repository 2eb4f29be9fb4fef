#!lua flags=no-writes,allow-cross-slot-keys
--[[
  Reads the live counters (ADR 180) of many shards on one master in one call (ADR 250): a
  count sends one of these per master instead of one GET per shard. The keys are in many slots,
  so they cannot be declared (a call with keys of several slots is CROSSSLOT): they come as
  arguments, and the flag lets the script read keys of several slots, all served by this node.
  A key this node does not serve (a stale slot map, a slot being migrated) fails the whole call,
  and the caller reads those shards one GET each, following redirects. Needs Redis 7.0 (script
  flags); on 6.2 the call fails the same way and the caller does the same.

  KEYS: none

  ARGV[1..n] counter keys   {p:<shard>}:count

  Returns: each counter's value in the order given (nil for a shard with no counter yet).
]]

local values = {}
for i = 1, #ARGV do
  values[i] = redis.call('GET', ARGV[i])
end
return values
