-- Ends the remember-me series a session record names (ADR 041), with its entry in the owner's
-- series index. `rec` is the record just read; nothing happens for a record without a series.
--   seriesPrefix       {p:n}:r:
--   seriesUsersPrefix  {p:n}:rusers:   (bucket from the owner)

local function endSessionSeries(rec, owner, seriesPrefix, seriesUsersPrefix, userBuckets)
  local series = sessionSeries(rec)
  if not series or series == '' then return end
  redis.call('DEL', seriesPrefix .. series)
  indexRemove(userIndexKey(seriesUsersPrefix, owner, userBuckets), owner, series)
end
