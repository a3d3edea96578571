-- get reads jobs. ARGV: eventsMax, then ids.
-- Returns per id: record (false when there is no such job), run state,
-- progress, result, history, state, score; then whether the queue is paused.
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local v = redis.call('HMGET', kData, id .. '|j', id .. '|u', id .. '|p', id .. '|r', id .. '|e')
  local st, score = state_of(id)
  for j = 1, 5 do out[#out + 1] = v[j] end
  out[#out + 1] = st or false
  out[#out + 1] = score or false
end
out[#out + 1] = redis.call('HGET', kMeta, 'paused') == '1' and 1 or 0
return out
