-- extend renews the leases a worker holds (its heartbeat).
-- ARGV: eventsMax, leaseMs, then pairs id, token.
-- Returns two lists: ids whose lease is lost (expired and taken over, or
-- handed back), and ids whose cancellation was requested.
local lease = tonumber(ARGV[2])
local now = now_ms()
local lost, cancel = {}, {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], tonumber(ARGV[i + 1])
  local v = redis.call('HMGET', kData, id .. '|u', id .. '|c')
  local d = v[1] and tonumber(string.match(v[1], '^(%d+),'))
  if d ~= token or not redis.call('ZSCORE', kActive, id) then
    lost[#lost + 1] = id
  else
    redis.call('ZADD', kActive, 'XX', now + lease, id)
    if v[2] then cancel[#cancel + 1] = id end
  end
end
return { lost, cancel }
