-- claim.lua claims one slot of one schedule for the calling process and
-- records it as the schedule's last run.
--
-- KEYS[1]  the slot's claim key; it holds the claiming process's id and
--          expires after ARGV[3] ms
-- KEYS[2]  hash: schedule name -> last claimed slot, unix ms
-- ARGV[1]  schedule name
-- ARGV[2]  slot, unix ms
-- ARGV[3]  claim lifetime, ms
-- ARGV[4]  process id
--
-- Returns 1 if the slot is this process's, 0 if another process claimed it.
-- Guarantees: while the claim key lives, one process holds a slot; the last
-- run only moves forward, so a late claim of an older slot (catching up) does
-- not hide a newer one. Safe to run again: a client that lost the reply and
-- retries finds its own claim and is told it holds the slot (each process
-- claims a slot once, so a second call from it can only be such a retry).
-- Both keys share one hash tag, so this runs on Redis Cluster.
if not redis.call('SET', KEYS[1], ARGV[4], 'NX', 'PX', ARGV[3]) then
  if redis.call('GET', KEYS[1]) == ARGV[4] then return 1 end
  return 0
end
local last = redis.call('HGET', KEYS[2], ARGV[1])
if not last or tonumber(ARGV[2]) > tonumber(last) then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 1
