-- pause stops (ARGV[3] = '1') or restarts ('0') the handing out of jobs. A
-- paused queue keeps accepting jobs; on resume its waiting jobs count as
-- ready from then (for pickup latency). Idempotent: pausing a paused queue
-- changes nothing. Reply: '1' if the state changed, else '0'.
local was = redis.call('HGET', kMeta, 'paused') == '1'
local pausing = ARGV[3] == '1'
if was == pausing then return pack({ '0' }) end
if pausing then
  redis.call('HSET', kMeta, 'paused', '1')
  emit('paused')
else
  redis.call('HSET', kMeta, 'paused', '0', 'resumed_at', int(now_ms()))
  wake()
  emit('resumed')
end
return pack({ '1' })
