-- The credential epoch of a user (ADR 040): a per-shard bucketed HASH userId -> epoch
-- ({p:n}:cred:<u>, u = userBucketOf(userId)), raised by revoke-user when credentials change.
-- A session or series whose credential version is below it is never created. 0 when never set.

local function credentialEpoch(key, uid)
  return tonumber(redis.call('HGET', key, uid) or '0')
end
