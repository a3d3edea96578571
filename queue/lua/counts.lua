-- counts snapshots the size of every state and the lifetime totals at one instant.
-- ARGV: eventsMax. Returns waiting, active, delayed, completed, failed,
-- completed_total, failed_total, paused (0/1).
local m = redis.call('HMGET', kMeta, 'completed_total', 'failed_total', 'paused')
return {
  redis.call('ZCARD', kWaiting), redis.call('ZCARD', kActive), redis.call('ZCARD', kDelayed),
  redis.call('ZCARD', kCompleted), redis.call('ZCARD', kFailed),
  tonumber(m[1] or '0'), tonumber(m[2] or '0'), m[3] == '1' and 1 or 0,
}
