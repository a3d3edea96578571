-- retry moves failed jobs back to waiting with their failure and stall counts
-- reset (their history is kept). ARGV: eventsMax, id, or '' and a limit for
-- the oldest failed jobs. Returns how many moved, or 'missing' / 'state'.
local id, limit = ARGV[2], tonumber(ARGV[3] or '0')
local ids = { id }
if id == '' then
  ids = redis.call('ZRANGE', kFailed, 0, limit - 1)
else
  local st = state_of(id)
  if not st then return 'missing' end
  if st ~= 'failed' then return 'state' end
end
local now = now_ms()
for _, jid in ipairs(ids) do
  redis.call('ZREM', kFailed, jid)
  local d = get_run(jid)
  redis.call('HSET', kData, jid .. '|u', run_string(d, 0, 0, 0))
  redis.call('HDEL', kData, jid .. '|c', jid .. '|r')
  make_waiting(jid, false)
  emit('e', 'retrying', 'id', jid)
end
if #ids > 0 then wake() end
return #ids
