--[[
  A keyed no-op: pinned to a write's node and connection, so a WAIT sent after it again still
  covers that write (WAIT counts the connection's latest write; ADR 215).

  KEYS[1] the key of the write to wait for (only routes the script; not read)

  Returns: 0.
]]

return 0
