-- progress stores a running job's progress, if the caller still holds its
-- lease, and publishes it when it changed: a retried call publishes nothing
-- twice. ARGV[3] id, ARGV[4] delivery, ARGV[5] progress JSON.
-- Reply: '1', or '0' when the lease is lost.
local id, token, p = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local run = redis.call('HGET', kRun, id)
if not run or parse_run(run) ~= token or not redis.call('ZSCORE', kActive, id) then
  return pack({ '0' })
end
if redis.call('HGET', kProgress, id) ~= p then
  redis.call('HSET', kProgress, id, p)
  emit('progress', { id }, nil, nil, nil, p)
end
return pack({ '1' })
