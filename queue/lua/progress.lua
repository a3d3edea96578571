-- progress stores a running job's progress, if the caller still holds its lease.
-- ARGV: eventsMax, id, token, progress JSON. Returns 1, or 0 when the lease is lost.
local id, token, p = ARGV[2], tonumber(ARGV[3]), ARGV[4]
if get_run(id) ~= token or not redis.call('ZSCORE', kActive, id) then return 0 end
redis.call('HSET', kData, id .. '|p', p)
emit('e', 'progress', 'id', id, 'p', p)
return 1
