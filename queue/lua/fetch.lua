-- fetch leases up to count waiting jobs to a worker. First it makes due
-- delayed jobs waiting, and hands back jobs whose lease expired (their worker
-- was lost): a stall uses no retry, but past maxStalls the job fails. Leased
-- jobs move to active with a lease until now + leaseMs.
-- Remembers which jobs it leased under the worker's fetch key: a retried
-- call returns the same jobs rather than leasing more and losing these.
-- ARGV[3] count, ARGV[4] leaseMs, ARGV[5] maxStalls.
-- Reply (an array, the one script whose reply is not packed: the records go
-- out as Redis has them, without passing through Lua strings): now (in µs,
-- so that a worker waits for a due time to the microsecond), wakeAt
-- (earliest delayed due time or lease expiry when fewer than count jobs were
-- leased, else 0), the queue's last resume time, the leased jobs' ids, their
-- run states and their waiting scores (priority * 2^43 + the time each
-- became ready; 0 when answered again from memory), each list joined with
-- newlines, then the jobs' records. Four strings for all the jobs and one
-- each, rather than four each: every element costs Redis and Go alike.
-- It is the hot path: per job it does little more than copy what Redis
-- commands return into what they take.

-- replay answers a retried call from what the first run remembered: now,
-- wakeAt, resumedAt, then the ids leased, newline-separated.
local function replay(prev)
  local f = {}
  for field in string.gmatch(prev, '[^\n]+') do f[#f + 1] = field end
  local ids = { unpack(f, 4) }
  local recs = call_many('HMGET', kRec, nil, ids)
  local runs = call_many('HMGET', kRun, nil, ids)
  local keptIDs, keptRuns, zeros, out = {}, {}, {}, { f[1], f[2], f[3], '', '', '' }
  for k, id in ipairs(ids) do
    if recs[k] and runs[k] then
      keptIDs[#keptIDs + 1] = id
      keptRuns[#keptRuns + 1] = runs[k]
      zeros[#zeros + 1] = '0'
      out[#out + 1] = recs[k]
    end
  end
  out[4], out[5], out[6] = table.concat(keptIDs, '\n'), table.concat(keptRuns, '\n'), table.concat(zeros, '\n')
  return out
end

local prev = remembered()
if prev then return replay(prev) end

local count, lease, maxStalls = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now, nowUs = now_ms()

local dh = redis.call('ZRANGE', kDelayed, 0, 0, 'WITHSCORES')
if dh[2] and tonumber(dh[2]) <= now then
  local due = redis.call('ZRANGEBYSCORE', kDelayed, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1000)
  local ids = {}
  for i = 1, #due, 2 do ids[#ids + 1] = due[i] end
  local prios = call_many('HMGET', kPrio, nil, ids)
  local z = {}
  for i = 1, #ids do
    z[#z + 1] = tonumber(prios[i] or '0') * PRIO + tonumber(due[2 * i])
    z[#z + 1] = ids[i]
  end
  call_many('ZREM', kDelayed, nil, ids)
  call_many('ZADD', kWaiting, nil, z)
  dh = nil
end

local ah = active_head()
if ah and ah <= now then
  local expired = redis.call('ZRANGEBYSCORE', kActive, '-inf', now, 'LIMIT', 0, 100)
  local stalled, attempts = {}, {}
  for _, id in ipairs(expired) do
    redis.call('ZREM', kActive, id)
    local d, f, s, t = parse_run(redis.call('HGET', kRun, id))
    redis.call('HSET', kRun, id, format_run(d, f, s + 1, t))
    if redis.call('HEXISTS', kCancel, id) == 1 then
      local a = end_failed(id, now, 'cancelled (its worker was lost)', true, false, true)
      emit('failed', { id }, { int(a) }, { 'cancelled (its worker was lost)' })
    elseif s + 1 > maxStalls then
      local msg = 'stalled ' .. int(s + 1) .. ' times: its worker was lost each time'
      local a = end_failed(id, now, msg, true, true, false)
      emit('failed', { id }, { int(a) }, { msg })
    else
      push_history(id, history_entry(f + 1, 'worker lost: lease expired', now, true))
      make_waiting(id, 0)
      stalled[#stalled + 1] = id
      attempts[#attempts + 1] = int(f + 1)
    end
  end
  emit('stalled', stalled, attempts)
  ah = active_head()
end

local leased, runsOut, scores, attempts, retried, n = {}, {}, {}, {}, false, 0
local out = { '', '', '', '', '', '' } -- filled in last
local meta = redis.call('HMGET', kMeta, 'paused', 'resumed_at')
if count > 0 and meta[1] ~= '1' then
  local popped = redis.call('ZPOPMIN', kWaiting, count)
  if #popped > 0 then
    local ids = {}
    for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
    local recs = call_many('HMGET', kRec, nil, ids)
    local runs = call_many('HMGET', kRun, nil, ids)
    local u, z = {}, {}
    local until_ = int(now + lease) -- as text once: Lua formats numbers slowly
    local firstRun = format_run(1, 0, 0, now) -- a job's first delivery
    for k, id in ipairs(ids) do
      local rec, run = recs[k], runs[k]
      if rec then -- a job without its record cannot run; it is gone
        n = n + 1
        if run then
          local d, f, s = parse_run(run)
          run = format_run(d + 1, f, s, now)
          if f > 0 then
            -- Not all first attempts: the entry names each job's.
            for a = #attempts + 1, n - 1 do attempts[a] = '1' end
            attempts[n] = int(f + 1)
            retried = true
          end
        else
          run = firstRun
        end
        u[2 * n - 1], u[2 * n] = id, run
        z[2 * n - 1], z[2 * n] = until_, id
        leased[n], runsOut[n], scores[n] = id, run, popped[2 * k]
        out[6 + n] = rec
      end
    end
    if #leased > 0 then
      keep_big()
      call_many('HSET', kRun, nil, u)
      call_many('ZADD', kActive, nil, z)
      -- Attempts are left out when all are first attempts (Go reads 1).
      if retried then
        for a = #attempts + 1, n do attempts[a] = '1' end
      else
        attempts = nil
      end
      emit('active', leased, attempts)
    end
    if #popped == 2 * count then wake() end -- there may be more: let another worker look
  end
end

local wakeAt = 0
if #leased < count then
  dh = dh or redis.call('ZRANGE', kDelayed, 0, 0, 'WITHSCORES')
  if dh[2] then wakeAt = tonumber(dh[2]) end
  if ah and (wakeAt == 0 or ah < wakeAt) then wakeAt = ah end
end
out[1], out[2], out[3] = nowUs, int(wakeAt), meta[2] or '0'
if #leased > 0 then
  out[4], out[5], out[6] = table.concat(leased, '\n'), table.concat(runsOut, '\n'), table.concat(scores, '\n')
  remember(out[1] .. '\n' .. out[2] .. '\n' .. out[3] .. '\n' .. out[4])
end
return out
