-- release hands unfinished jobs back to the front of the waiting set, as a
-- worker stops. It uses no retry and counts no stall, but clears the run
-- state's start time, so that the delivery's run state is gone (ack and
-- extend compare it). Idempotent: a job already handed back is no longer
-- leased to the delivery named.
-- ARGV from 3: pairs id, delivery. Reply: how many were handed back.
local n, ids = 0, {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], tonumber(ARGV[i + 1])
  local d, f, s = parse_run(redis.call('HGET', kRun, id))
  if d == token and redis.call('ZREM', kActive, id) == 1 then
    redis.call('HSET', kRun, id, format_run(d, f, s, 0))
    make_waiting(id, 0)
    ids[#ids + 1] = id
    n = n + 1
  end
end
if n > 0 then wake() end
emit('released', ids)
return pack({ int(n) })
