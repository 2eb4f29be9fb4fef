-- A growing shard count (ADR 260): {p:s}:reshard, a HASH in the old shard's slot, holds
-- uid -> 'm' while the user's data is being copied to their new shard (frozen) and 'd' once it
-- moved; '#m' counts the frozen users. Absent (no split ever ran here): one EXISTS, nothing else.
-- A script that would read or change a frozen user's data answers -3 (MOVING: the engine sends it
-- again shortly), one of a moved user's data -4 (MOVED: the engine sends it to the new shard).

local RESHARD_MOVING, RESHARD_MOVED = -3, -4

-- -3, -4 or nil (go on) for user `uid`.
local function reshardState(key, uid)
  if redis.call('EXISTS', key) == 0 then return nil end
  local state = redis.call('HGET', key, uid)
  if state == 'm' then return RESHARD_MOVING end
  if state == 'd' then return RESHARD_MOVED end
  return nil
end
