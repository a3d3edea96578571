-- fetch leases up to count waiting jobs to a worker. First it promotes
-- delayed jobs that are due and hands back jobs whose lease expired (their
-- worker died): a stall does not consume a retry, but past maxStalls the job
-- fails. Leased jobs move to active with a lease until now + leaseMs.
-- ARGV: eventsMax, count, leaseMs, maxStalls.
-- Returns: now, wakeAt (earliest delayed due time or lease expiry; 0 = none),
-- then per job: id, record, run state.
local count, lease, maxStalls = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()

local due = redis.call('ZRANGEBYSCORE', kDelayed, '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', kDelayed, id)
  make_waiting(id, false)
end
if #due > 0 then wake() end

local expired = redis.call('ZRANGEBYSCORE', kActive, '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  redis.call('ZREM', kActive, id)
  local d, f, s, t = get_run(id)
  if redis.call('HEXISTS', kData, id .. '|c') == 1 then
    fail_now(id, now, 'cancelled (its worker was lost)', true)
  elseif s + 1 > maxStalls then
    redis.call('HSET', kData, id .. '|u', run_string(d, f, s + 1, t))
    fail_now(id, now, 'stalled ' .. int(s + 1) .. ' times: its worker was lost each time', true)
  else
    redis.call('HSET', kData, id .. '|u', run_string(d, f, s + 1, t))
    push_history(id, history_entry(f + 1, 'worker lost: lease expired', now, true))
    make_waiting(id, true)
    wake()
    emit('e', 'stalled', 'id', id, 'a', f + 1)
  end
end

local out = { now, 0 }
if count > 0 and redis.call('HGET', kMeta, 'paused') ~= '1' then
  local popped = redis.call('ZPOPMIN', kWaiting, count)
  local until_ = now + lease
  local z = {}
  for i = 1, #popped, 2 do
    local id = popped[i]
    local v = redis.call('HMGET', kData, id .. '|j', id .. '|u')
    if v[1] then
      local d, f, s = 0, 0, 0
      if v[2] then
        d, f, s = string.match(v[2], '^(%d+),(%d+),(%d+),')
        d, f, s = tonumber(d), tonumber(f), tonumber(s)
      end
      local run = run_string(d + 1, f, s, now)
      redis.call('HSET', kData, id .. '|u', run)
      z[#z + 1] = until_
      z[#z + 1] = id
      out[#out + 1] = id
      out[#out + 1] = v[1]
      out[#out + 1] = run
      emit('e', 'active', 'id', id, 'a', f + 1)
    end
  end
  if #z > 0 then redis.call('ZADD', kActive, unpack(z)) end
  if #popped == 2 * count and redis.call('ZCARD', kWaiting) > 0 then wake() end
end

local wakeAt = 0
local dh = redis.call('ZRANGE', kDelayed, 0, 0, 'WITHSCORES')
if dh[2] then wakeAt = tonumber(dh[2]) end
local ah = redis.call('ZRANGE', kActive, 0, 0, 'WITHSCORES')
if ah[2] and (wakeAt == 0 or tonumber(ah[2]) < wakeAt) then wakeAt = tonumber(ah[2]) end
out[2] = wakeAt
return out
