-- get reads jobs. ARGV from 3: ids.
-- Reply: whether the queue is paused ('1'/'0'), then per id 7 fields:
-- record ('' when there is no such job), run state, progress, result,
-- history, state ('' when in no set), score.
local out = { redis.call('HGET', kMeta, 'paused') == '1' and '1' or '0' }
for i = 3, #ARGV do
  local id = ARGV[i]
  local st, score = state_of(id)
  for _, h in ipairs({ kRec, kRun, kProgress, kResult, kHistory }) do
    out[#out + 1] = redis.call('HGET', h, id) or ''
  end
  out[#out + 1] = st or ''
  out[#out + 1] = score or ''
end
return pack(out)
