-- ack records the outcomes of jobs a worker ran, a batch at a time. An
-- outcome counts only if the job is still leased to the delivery that ran
-- it (its lease expired and it went elsewhere, or it was handed back: the
-- outcome is dropped). A job whose cancellation was requested fails instead
-- of retrying and counts as cancelled.
-- Remembers its reply under the worker's ack key: a retried batch is
-- recorded once and answered as the first time.
-- ARGV from 3, per outcome 7 fields: id, delivery followed by a comma (the
-- start of the run state it must match), kind ('c' completed, 'f' failed,
-- 'r' retry), flags (sum of 1 the job has a dedup key, 2 a priority, 4
-- progress, 8 a history), spec (retention spec for c and f, delay in ms for
-- r), text (result JSON for c when kept, else the error message), attempt.
-- Reply: the 1-based positions of outcomes dropped.
-- It is the hot path: a completed job that is removed (the default) costs
-- a few table inserts; everything else goes the long way.
local prev = remembered()
if prev then return prev end
local function has(flags, bit) return math.floor(flags / bit) % 2 == 1 end
local now = now_ms()
local n = (#ARGV - 2) / 7
local ids = {}
for i = 0, n - 1 do ids[i + 1] = ARGV[3 + i * 7] end
local runs = call_many('HMGET', kRun, nil, ids)
local cancels = call_many('HMGET', kCancel, nil, ids)
local zs = call_many('ZMSCORE', kActive, nil, ids)
local lost, leased, gone = {}, {}, {}
-- per hash: fields to set (field, value pairs) and to delete
local setRun, setResult, del = {}, {}, {}
for _, h in ipairs({ kRec, kRun, kPrio, kProgress, kResult, kHistory, kCancel }) do del[h] = {} end
local done, doneA = {}, {}
local failed, failedA, failedE = {}, {}, {}
local retried, retriedA, retriedE, retriedD = {}, {}, {}, {}
local keepC, keepF, specC, specF = {}, {}, {}, {}
local delayed, waiting, earliest = {}, {}, nil
local completedN, failedN, cancelledN = 0, 0, 0
local anyA = false
for i = 0, n - 1 do
  local b = 3 + i * 7
  local id, tokp, kind, flags, spec, text, attempt =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]
  local run, cancelFlag = runs[i + 1], cancels[i + 1]
  if not run or string.find(run, tokp, 1, true) ~= 1 or not zs[i + 1] then
    lost[#lost + 1] = int(i + 1)
  elseif kind == 'c' and spec == 'r' and flags == '0' and not cancelFlag then
    -- Completed and removed, with nothing else to clean up.
    leased[#leased + 1] = id
    gone[#gone + 1] = id
    completedN = completedN + 1
    done[#done + 1] = id
    doneA[#doneA + 1] = attempt
    anyA = anyA or attempt ~= '1'
  else
    flags = tonumber(flags)
    local d, f, s, t = parse_run(run)
    leased[#leased + 1] = id
    if cancelFlag then
      table.insert(del[kCancel], id)
      if kind == 'r' then
        kind = 'f'
        spec = fail_spec(id)
      end
    end
    if kind == 'c' then
      completedN = completedN + 1
      done[#done + 1] = id
      doneA[#doneA + 1] = int(f + 1)
      anyA = anyA or f > 0
      if has(flags, 1) then drop_dedup(id) end
      if spec == 'r' then
        gone[#gone + 1] = id
        if has(flags, 2) then table.insert(del[kPrio], id) end
        if has(flags, 4) then table.insert(del[kProgress], id) end
        if has(flags, 8) then table.insert(del[kHistory], id) end
      else
        if text ~= '' then
          setResult[#setResult + 1] = id
          setResult[#setResult + 1] = text
        end
        keepC[#keepC + 1] = now
        keepC[#keepC + 1] = id
        specC[spec] = true
      end
    else
      setRun[#setRun + 1] = id
      setRun[#setRun + 1] = format_run(d, f + 1, s, t)
      push_history(id, history_entry(f + 1, text, now, false))
      if kind == 'r' then
        local delay = tonumber(spec)
        retried[#retried + 1] = id
        retriedA[#retriedA + 1] = int(f + 1)
        retriedE[#retriedE + 1] = text
        if delay > 0 then
          delayed[#delayed + 1] = now + delay
          delayed[#delayed + 1] = id
          retriedD[#retriedD + 1] = int(now + delay)
          if not earliest or now + delay < earliest then earliest = now + delay end
        else
          local prio = 0
          if has(flags, 2) then prio = priority(id) end
          waiting[#waiting + 1] = prio * PRIO + now
          waiting[#waiting + 1] = id
          retriedD[#retriedD + 1] = ''
        end
      else
        if cancelFlag then cancelledN = cancelledN + 1 else failedN = failedN + 1 end
        failed[#failed + 1] = id
        failedA[#failedA + 1] = int(f + 1)
        failedE[#failedE + 1] = text
        if has(flags, 1) then drop_dedup(id) end
        if spec == 'r' then
          for _, list in pairs(del) do list[#list + 1] = id end
        else
          keepF[#keepF + 1] = now
          keepF[#keepF + 1] = id
          specF[spec] = true
        end
      end
    end
  end
end
call_many('ZREM', kActive, nil, leased)
call_many('HSET', kRun, nil, setRun)
call_many('HSET', kResult, nil, setResult)
call_many('HDEL', kRec, nil, gone)
call_many('HDEL', kRun, nil, gone)
for h, list in pairs(del) do call_many('HDEL', h, nil, list) end
if #keepC > 0 then
  call_many('ZADD', kCompleted, nil, keepC)
  for spec in pairs(specC) do trim(kCompleted, now, spec) end
end
if #keepF > 0 then
  call_many('ZADD', kFailed, nil, keepF)
  for spec in pairs(specF) do trim(kFailed, now, spec) end
end
if #delayed > 0 then
  call_many('ZADD', kDelayed, nil, delayed)
  wake_for_delayed(earliest)
end
if #waiting > 0 then
  call_many('ZADD', kWaiting, nil, waiting)
  wake()
end
if completedN > 0 then redis.call('HINCRBY', kMeta, 'completed_total', completedN) end
if failedN > 0 then redis.call('HINCRBY', kMeta, 'failed_total', failedN) end
if cancelledN > 0 then redis.call('HINCRBY', kMeta, 'cancelled_total', cancelledN) end
if not anyA then doneA = nil end -- all first attempts: Go reads 1
emit('completed', done, doneA)
emit('failed', failed, failedA, failedE)
local anyDue = false
for _, due in ipairs(retriedD) do if due ~= '' then anyDue = true end end
if not anyDue then retriedD = nil end
emit('retrying', retried, retriedA, retriedE, retriedD)
return remember(pack(lost))
