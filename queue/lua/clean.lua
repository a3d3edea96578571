-- clean removes up to limit jobs of one state that are older than a cutoff:
-- completed and failed jobs by when they finished, waiting and delayed jobs
-- by when they were added. Remembers its reply.
-- ARGV[3] state, ARGV[4] age ms, ARGV[5] limit. Reply: how many went.
local prev = remembered()
if prev then return prev end
local state, age, limit = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local key = set_key(state)
local cutoff = now_ms() - age
local ids = {}
if state == 'completed' or state == 'failed' then
  ids = redis.call('ZRANGEBYSCORE', key, '-inf', cutoff, 'LIMIT', 0, limit)
else
  -- Waiting and delayed sets are not ordered by age: scan a bounded window.
  local scan = redis.call('ZRANGE', key, 0, limit * 10 - 1)
  for _, id in ipairs(scan) do
    local rec = redis.call('HGET', kRec, id)
    local added = rec and record_header(rec)
    if added and added <= cutoff then
      ids[#ids + 1] = id
      if #ids >= limit then break end
    end
  end
end
for _, id in ipairs(ids) do
  redis.call('ZREM', key, id)
  delete_job(id)
end
return remember(pack({ int(#ids) }))
