-- A per-shard HASH userId -> space-separated ids, oldest first (sessions in `users`, remember-me
-- series in `rusers`). HLEN counts users; a user with no ids has no field.

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
    redis.call('HDEL', key, uid)
  else
    redis.call('HSET', key, uid, table.concat(ids, ' '))
  end
end

local function indexRemove(key, uid, id)
  local ids = indexGet(key, uid)
  local rest = {}
  for _, x in ipairs(ids) do
    if x ~= id then rest[#rest + 1] = x end
  end
  if #rest ~= #ids then indexSet(key, uid, rest) end
end
