-- cancel stops a job. A running job is flagged and its worker told on the
-- channel ARGV[4]; it fails as cancelled unless its handler still returns
-- success. A waiting or delayed job ends now as cancelled, having made no
-- attempt. Remembers its reply.
-- ARGV[3] id, ARGV[4] channel. Reply: 'running', 'cancelled', 'finished' or 'missing'.
local prev = remembered()
if prev then return prev end
local id = ARGV[3]
local st = state_of(id)
if not st then return remember(pack({ 'missing' })) end
if st == 'completed' or st == 'failed' then return remember(pack({ 'finished' })) end
emit('cancelled', { id })
if st == 'active' then
  redis.call('HSET', kCancel, id, '1')
  redis.call('PUBLISH', ARGV[4], id)
  return remember(pack({ 'running' }))
end
redis.call('ZREM', set_key(st), id)
local now = now_ms()
local a = end_failed(id, now, 'cancelled', false, false, true)
emit('failed', { id }, { int(a) }, { 'cancelled' })
return remember(pack({ 'cancelled' }))
