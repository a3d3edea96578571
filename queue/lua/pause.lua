-- pause stops (ARGV[2] = '1') or restarts ('0') the handing out of jobs. A
-- paused queue keeps accepting jobs. ARGV: eventsMax, flag.
local was = redis.call('HGET', kMeta, 'paused') == '1'
local now = ARGV[2] == '1'
if was == now then return 0 end
redis.call('HSET', kMeta, 'paused', ARGV[2])
if now then
  emit('e', 'paused')
else
  wake()
  emit('e', 'resumed')
end
return 1
