-- progress stores a running job's progress, if the caller still holds its
-- lease, and publishes it when it changed: a retried call publishes nothing
-- twice. ARGV[3] id, ARGV[4] delivery, ARGV[5] progress JSON.
-- Reply: '1', or '0' when the lease is lost.
local id, token, p = ARGV[3], tonumber(ARGV[4]), ARGV[5]
local v = redis.call('HMGET', kData, id .. '|u', id .. '|p')
if not v[1] or parse_run(v[1]) ~= token or not redis.call('ZSCORE', kActive, id) then
  return pack({ '0' })
end
if v[2] ~= p then
  redis.call('HSET', kData, id .. '|p', p)
  emit('progress', { id }, nil, nil, nil, p)
end
return pack({ '1' })
