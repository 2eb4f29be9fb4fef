-- The shard's live counter (ADR 180): {p:n}:count, a STRING "<entries> <users> <due>", kept
-- equal to the shard's indexes by every script that changes them, in the same script:
--   entries  sum of ZCARD over the shard's live buckets (index entries, expired or not)
--   users    sum of HLEN over the shard's user-index buckets
--   due      at most the lowest score in any live bucket (NO_DUE when there is none)
-- and {p:n}:due, a ZSET live bucket -> at most the lowest score in that bucket, so a sweep visits
-- only the buckets that hold something expired. Both are lower bounds: removing an entry never
-- has to touch them; adding or lowering a score does (ZADD LT).
-- A shard whose counter is absent (data written before counters existed) is left so by writes:
-- the count script builds it from the indexes in one step, and nothing half-built is ever read.

local NO_DUE = 9007199254740991
local counted = nil

-- Reads the counter; false when it has not been built (or does not parse).
local function countOpen(counterKey, dueKey)
  local value = redis.call('GET', counterKey)
  local entries, users, due
  if value then entries, users, due = string.match(value, '^(%d+) (%d+) (%d+)$') end
  if not entries then
    counted = nil
    return false
  end
  counted = {
    key = counterKey, dueKey = dueKey, dirty = false,
    entries = tonumber(entries), users = tonumber(users), due = tonumber(due),
  }
  return true
end

-- Live bucket `b` holds (or now holds) an entry scored `score`: lowers the bounds.
local function countScored(b, score)
  if not counted then return end
  score = tonumber(score)
  redis.call('ZADD', counted.dueKey, 'LT', score, b)
  if score < counted.due then
    counted.due = score
    counted.dirty = true
  end
end

-- ZADD of `sid` into live bucket `b` (key `zkey`); counts a new entry.
local function liveAdd(zkey, b, score, sid)
  local added = redis.call('ZADD', zkey, score, sid)
  if not counted then return end
  counted.entries = counted.entries + added
  if added > 0 then counted.dirty = true end
  countScored(b, score)
end

-- ZREM of `sid` from live bucket `zkey`; counts a removed entry. The bounds stay valid.
local function liveRemove(zkey, sid)
  local removed = redis.call('ZREM', zkey, sid)
  if counted and removed > 0 then
    counted.entries = counted.entries - removed
    counted.dirty = true
  end
end

-- A user-index change: `delta` users gained (+1) or lost (-1), as returned by indexSet.
local function countUsers(delta)
  if counted and delta ~= 0 then
    counted.users = counted.users + delta
    counted.dirty = true
  end
end

local function countWrite(entries, users, due)
  return string.format('%.0f %.0f %.0f', entries, users, due)
end

-- Writes the counter back when something changed.
local function countSave()
  if counted and counted.dirty then
    redis.call('SET', counted.key, countWrite(counted.entries, counted.users, counted.due))
  end
end
