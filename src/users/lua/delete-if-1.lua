--[[
  Deletes a key only while it holds exactly the expected value: using a single-use account token
  (the record that was checked, and no other, goes; of two concurrent uses one wins) and clearing
  the user's pointer to it only if it still names that token.

  KEYS[1] the key  {p:k:<kind>:<id>} or {p:ku:<kind>:<userId>}  STRING

  ARGV[1] the value it must hold

  Returns: 1 deleted; 0 absent or holding something else (nothing changed).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
