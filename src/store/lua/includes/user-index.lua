-- A per-shard HASH userId -> space-separated ids, oldest first (sessions in `users`, remember-me
-- series in `rusers`). HLEN counts users; a user with no ids has no field. indexSet and indexRemove
-- return how HLEN changed (+1, -1 or 0) for the shard's live counter (includes/live-count.lua).

local function indexGet(key, uid)
  local ids = {}
  local value = redis.call('HGET', key, uid)
  if value then
    for id in string.gmatch(value, '%S+') do ids[#ids + 1] = id end
  end
  return ids
end

local function indexSet(key, uid, ids)
  if #ids == 0 then
    return -redis.call('HDEL', key, uid)
  end
  return redis.call('HSET', key, uid, table.concat(ids, ' '))
end

local function indexRemove(key, uid, id)
  local ids = indexGet(key, uid)
  local rest = {}
  for _, x in ipairs(ids) do
    if x ~= id then rest[#rest + 1] = x end
  end
  if #rest ~= #ids then return indexSet(key, uid, rest) end
  return 0
end
