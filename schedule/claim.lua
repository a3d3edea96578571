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
-- Returns 1 if this call claimed the slot, 0 if another call already had.
-- Guarantees: while the claim key lives, exactly one call returns 1 for a
-- slot; the last run only moves forward, so a late claim of an older slot
-- (catching up) does not hide a newer one. Both keys share one hash tag, so
-- this runs on Redis Cluster.
if not redis.call('SET', KEYS[1], ARGV[4], 'NX', 'PX', ARGV[3]) then
  return 0
end
local last = redis.call('HGET', KEYS[2], ARGV[1])
if not last or tonumber(ARGV[2]) > tonumber(last) then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 1
