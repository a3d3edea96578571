-- counts snapshots the size of every state and the lifetime totals at one
-- instant, and how long the job next in line has been runnable. Reply:
-- waiting, active, delayed, completed, failed, completed_total,
-- failed_total, cancelled_total, paused ('1'/'0'), then now and the time
-- (ms) the waiting line's head became runnable ('0' when none waits or the
-- queue is paused: nothing is runnable then).
local m = redis.call('HMGET', kMeta, 'completed_total', 'failed_total', 'cancelled_total', 'paused', 'resumed_at')
local paused = m[4] == '1'
local now = now_ms()
local ready = 0
if not paused then
  local head = redis.call('ZRANGE', kWaiting, 0, 0, 'WITHSCORES')
  if head[1] then
    ready = tonumber(head[2]) % PRIO
    if ready == 0 then
      -- Handed back unfinished by a worker: when it became ready again is
      -- not kept, so count from when it was added, an upper bound.
      local rec = redis.call('HGET', kRec, head[1])
      ready = rec and record_header(rec) or now
    end
    ready = math.max(ready, tonumber(m[5] or '0'))
  end
end
return pack({
  int(redis.call('ZCARD', kWaiting)), int(redis.call('ZCARD', kActive) - (redis.call('ZSCORE', kActive, BIG) and 1 or 0)), int(redis.call('ZCARD', kDelayed)),
  int(redis.call('ZCARD', kCompleted)), int(redis.call('ZCARD', kFailed)),
  m[1] or '0', m[2] or '0', m[3] or '0', paused and '1' or '0',
  int(now), int(ready),
})
