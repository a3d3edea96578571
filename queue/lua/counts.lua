-- counts snapshots the size of every state and the lifetime totals at one
-- instant. Reply: waiting, active, delayed, completed, failed,
-- completed_total, failed_total, cancelled_total, paused ('1'/'0').
local m = redis.call('HMGET', kMeta, 'completed_total', 'failed_total', 'cancelled_total', 'paused')
return pack({
  int(redis.call('ZCARD', kWaiting)), int(redis.call('ZCARD', kActive) - (redis.call('ZSCORE', kActive, BIG) and 1 or 0)), int(redis.call('ZCARD', kDelayed)),
  int(redis.call('ZCARD', kCompleted)), int(redis.call('ZCARD', kFailed)),
  m[1] or '0', m[2] or '0', m[3] or '0', m[4] == '1' and '1' or '0',
})
