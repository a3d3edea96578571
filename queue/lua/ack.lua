-- ack records the outcomes of jobs a worker ran, a batch at a time. An
-- outcome counts only if the job is still in the delivery that ran it: its
-- run state is still the one the fetch gave (a stall, a redelivery, a retry
-- by hand or a hand-back changes it; see release.lua), else the outcome is
-- dropped. A job whose cancellation was requested fails instead of
-- retrying and counts as cancelled.
-- Remembers its reply under the worker's ack key: a retried batch is
-- recorded once and answered as the first time.
-- ARGV[3] is k, the number of outcomes that are a first attempt completed
-- and removed (the default, and most of them); ARGV[4] their ids and the
-- run states the fetch gave, each followed by a newline (one argument for
-- all: every argument costs Redis and the client alike); then, for every
-- other outcome, 4 fields: id, run state, code, text. The code is "<kind>|<flags>|<attempt>|<spec>": kind
-- 'c' completed, 'f' failed or 'r' to retry; flags the sum of 1 (the job
-- has a dedup key), 2 (a priority), 4 (progress), 8 (a history); the
-- attempt's number; spec the retention spec for c and f, the delay in ms
-- for r. Text is the result JSON for c when kept, else the error message.
-- Reply: the 1-based positions of outcomes dropped, in the order given.
-- It is the hot path: a common outcome costs a comparison and a few table
-- inserts; every other outcome goes the long way.
local prev = remembered()
if prev then return prev end
local function has(flags, bit) return math.floor(flags / bit) % 2 == 1 end
local now = now_ms()
local nowText = int(now) -- Lua formats numbers slowly: once
local k = tonumber(ARGV[3])
-- Per outcome: ids[i], states[i]; codes[i] and texts[i] for the uncommon.
local ids, states, codes, texts = {}, {}, {}, {}
local n = 0
for id, state in string.gmatch(ARGV[4], '([^\n]*)\n([^\n]*)\n') do
  n = n + 1
  ids[n], states[n] = id, state
end
if n ~= k then return redis.error_reply('ERR ack: ' .. n .. ' common outcomes given, ' .. k .. ' announced') end
for b = 5, #ARGV, 4 do
  n = n + 1
  ids[n], states[n], codes[n], texts[n] = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
end
local runs = call_many('HMGET', kRun, nil, ids)
local cancels = {}
if redis.call('EXISTS', kCancel) == 1 then cancels = call_many('HMGET', kCancel, nil, ids) end
local lost, leased, gone = {}, {}, {}
local nLeased, nGone, nDone = 0, 0, 0
-- per hash: fields to set (field, value pairs) and to delete
local setRun, setResult, del = {}, {}, {}
for _, h in ipairs({ kRec, kRun, kPrio, kProgress, kResult, kHistory, kCancel }) do del[h] = {} end
local done, doneA = {}, {}
local failed, failedA, failedE = {}, {}, {}
local retried, retriedA, retriedE, retriedD = {}, {}, {}, {}
local keepC, keepF, specC, specF = {}, {}, {}, {}
local delayed, waiting, earliest = {}, {}, nil
local failedN, cancelledN = 0, 0
local anyA = false
for i = 1, n do
  local id, code, text = ids[i], 'c|0|1|r', ''
  if i > k then code, text = codes[i], texts[i] end
  local run, cancelFlag = runs[i], cancels[i]
  if run ~= states[i] then
    lost[#lost + 1] = int(i)
  elseif code == 'c|0|1|r' and not cancelFlag then
    -- A first attempt completed and removed, with nothing else to clean up.
    nLeased, nGone, nDone = nLeased + 1, nGone + 1, nDone + 1
    leased[nLeased], gone[nGone], done[nDone] = id, id, id
  else
    local kind, flags, attempt, spec = string.match(code, '^(%a)|(%d+)|(%d+)|(.*)$')
    flags = tonumber(flags)
    local d, f, s, t = parse_run(run)
    nLeased = nLeased + 1
    leased[nLeased] = id
    if cancelFlag then
      table.insert(del[kCancel], id)
      if kind == 'r' then
        kind = 'f'
        spec = fail_spec(id)
      end
    end
    if kind == 'c' then
      nDone = nDone + 1
      done[nDone] = id
      if f > 0 then
        -- Not all first attempts: the entry names each job's.
        for k = #doneA + 1, nDone - 1 do doneA[k] = '1' end
        doneA[nDone] = int(f + 1)
        anyA = true
      end
      if has(flags, 1) then drop_dedup(id) end
      if spec == 'r' then
        nGone = nGone + 1
        gone[nGone] = id
        if has(flags, 2) then table.insert(del[kPrio], id) end
        if has(flags, 4) then table.insert(del[kProgress], id) end
        if has(flags, 8) then table.insert(del[kHistory], id) end
      else
        if text ~= '' then
          setResult[#setResult + 1] = id
          setResult[#setResult + 1] = text
        end
        keepC[#keepC + 1] = nowText
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
          keepF[#keepF + 1] = nowText
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
if nDone > 0 then redis.call('HINCRBY', kMeta, 'completed_total', nDone) end
if failedN > 0 then redis.call('HINCRBY', kMeta, 'failed_total', failedN) end
if cancelledN > 0 then redis.call('HINCRBY', kMeta, 'cancelled_total', cancelledN) end
if anyA then
  for k = #doneA + 1, nDone do doneA[k] = '1' end
else
  doneA = nil -- all first attempts: Go reads 1
end
emit('completed', done, doneA)
emit('failed', failed, failedA, failedE)
local anyDue = false
for _, due in ipairs(retriedD) do if due ~= '' then anyDue = true end end
if not anyDue then retriedD = nil end
emit('retrying', retried, retriedA, retriedE, retriedD)
return remember(pack(lost))
