-- list returns the ids in one state's set, a page at a time: waiting in run
-- order, delayed by due time, active by lease, completed and failed newest first.
-- ARGV: eventsMax, state, offset, limit.
local key = set_key(ARGV[2])
local offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
if ARGV[2] == 'completed' or ARGV[2] == 'failed' then
  return redis.call('ZREVRANGE', key, offset, offset + limit - 1)
end
return redis.call('ZRANGE', key, offset, offset + limit - 1)
