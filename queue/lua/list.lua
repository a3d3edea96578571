-- list returns the ids in one state's set, a page at a time: waiting in run
-- order, delayed by due time, active by lease, completed and failed newest
-- first. ARGV[3] state, ARGV[4] first rank, ARGV[5] last rank (integers as
-- strings: Lua's numbers would round them). Reply: the ids.
local key = set_key(ARGV[3])
if ARGV[3] == 'completed' or ARGV[3] == 'failed' then
  return pack(redis.call('ZREVRANGE', key, ARGV[4], ARGV[5]))
end
local ids = redis.call('ZRANGE', key, ARGV[4], ARGV[5])
if ids[#ids] == BIG then ids[#ids] = nil end
return pack(ids)
