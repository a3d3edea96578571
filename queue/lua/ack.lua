-- ack records the outcome of jobs a worker ran. An outcome is applied only if
-- the job is still leased to that delivery (token = its delivery number and it
-- is active); otherwise the worker lost the job (its lease expired and it was
-- handed to another worker, or it was handed back) and the outcome is dropped.
-- ARGV: eventsMax, then per job 7: id, token, outcome, retention or delay, result, error,
-- and '1' when the job has a dedup key.
--   outcome 'c' completed: retention 'r' (remove) or 'k:<count>:<ageMs>', result JSON or ''
--   outcome 'f' failed: retention as above, error message
--   outcome 'r' retry: delay ms, error message
-- A job whose cancellation was requested fails instead of retrying.
-- Returns the ids whose outcome was dropped.
local now = now_ms()
local completed, failed = 0, 0
local lost = {}
for i = 2, #ARGV, 7 do
  local id, token, outcome, spec, payload, msg = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local noDedup = ARGV[i + 6] ~= '1'
  local v = redis.call('HMGET', kData, id .. '|u', id .. '|c')
  local d, f, s, t
  if v[1] then
    d, f, s, t = string.match(v[1], '^(%d+),(%d+),(%d+),(%d+)$')
    d, f, s, t = tonumber(d), tonumber(f), tonumber(s), tonumber(t)
  end
  if d ~= token or redis.call('ZREM', kActive, id) == 0 then
    lost[#lost + 1] = id
  else
    if v[2] then
      redis.call('HDEL', kData, id .. '|c')
      if outcome == 'r' then
        outcome = 'f'
        spec = fail_spec(id)
      end
    end
    if outcome == 'c' then
      completed = completed + 1
      if spec == 'r' then
        delete_job(id, noDedup)
      else
        if not noDedup then drop_dedup(id) end
        if payload ~= '' then redis.call('HSET', kData, id .. '|r', payload) end
        keep(kCompleted, id, now, spec)
      end
      emit('e', 'completed', 'id', id, 'a', f + 1)
    else
      redis.call('HSET', kData, id .. '|u', run_string(d, f + 1, s, t))
      push_history(id, history_entry(f + 1, msg, now, false))
      if outcome == 'r' then
        local delay = tonumber(spec)
        if delay > 0 then
          make_delayed(id, now + delay)
          emit('e', 'retrying', 'id', id, 'a', f + 1, 'err', msg, 'due', int(now + delay))
        else
          make_waiting(id, false)
          wake()
          emit('e', 'retrying', 'id', id, 'a', f + 1, 'err', msg)
        end
      else
        failed = failed + 1
        if not noDedup then drop_dedup(id) end
        if spec == 'r' then delete_job(id, true) else keep(kFailed, id, now, spec) end
        emit('e', 'failed', 'id', id, 'a', f + 1, 'err', msg)
      end
    end
  end
end
if completed > 0 then redis.call('HINCRBY', kMeta, 'completed_total', completed) end
if failed > 0 then redis.call('HINCRBY', kMeta, 'failed_total', failed) end
return lost
