-- cancel stops a job. A running job is flagged and its worker told on the
-- channel ARGV[3]; it fails with "cancelled" unless its handler still returns
-- success. A waiting or delayed job fails now. ARGV: eventsMax, id, channel.
-- Returns 'active', 'failed', 'finished' or 'missing'.
local id = ARGV[2]
local st = state_of(id)
if not st then return 'missing' end
if st == 'completed' or st == 'failed' then return 'finished' end
if st == 'active' then
  redis.call('HSET', kData, id .. '|c', '1')
  redis.call('PUBLISH', ARGV[3], id)
  emit('e', 'cancelled', 'id', id)
  return 'active'
end
redis.call('ZREM', set_key(st), id)
emit('e', 'cancelled', 'id', id)
fail_now(id, now_ms(), 'cancelled', false)
return 'failed'
