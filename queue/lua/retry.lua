-- retry moves failed jobs back to waiting with their failure and stall
-- counts reset (their history is kept). Remembers its reply.
-- ARGV[3] id, or '' and ARGV[4] a limit for the oldest failed jobs.
-- Reply: how many moved, or 'missing' / 'state'.
local prev = remembered()
if prev then return prev end
local id, limit = ARGV[3], tonumber(ARGV[4] or '0')
local ids = { id }
if id == '' then
  ids = redis.call('ZRANGE', kFailed, 0, limit - 1)
else
  local st = state_of(id)
  if not st then return remember(pack({ 'missing' })) end
  if st ~= 'failed' then return remember(pack({ 'state' })) end
end
local now = now_ms()
for _, jid in ipairs(ids) do
  redis.call('ZREM', kFailed, jid)
  local d = parse_run(redis.call('HGET', kRun, jid))
  redis.call('HSET', kRun, jid, format_run(d, 0, 0, 0))
  redis.call('HDEL', kCancel, jid)
  redis.call('HDEL', kResult, jid)
  make_waiting(jid, now)
end
if #ids > 0 then wake() end
emit('retrying', ids)
return remember(pack({ int(#ids) }))
