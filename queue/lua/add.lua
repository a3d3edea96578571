-- add adds jobs. Each job is added whole (its data and one set, waiting or
-- delayed) or not at all; a job whose custom id exists, or whose dedup key a
-- live job holds, is not added and that job is answered instead.
-- Remembers its reply: a retried call adds nothing twice.
-- ARGV[3] n, then per job 6 fields: id, generated ('1': made by the client,
-- unique by construction, so not looked up), record tail, priority, due (''
-- now, '+<ms>' after a delay, '@<unix ms>' at a time), dedup key ('' none).
-- Reply: now, then per job: '1' added or '0' existing, and the job's id.
local prev = remembered()
if prev then return prev end
local n = tonumber(ARGV[3])
local now = now_ms()
local out = { int(now) }
local nowText, nowScore = out[1] .. ';', out[1]
local recs, prios, dedupOf, dedup, waiting, delayed = {}, {}, {}, {}, {}, {}
local ids, dues, anyDue = {}, {}, false
local earliest = nil
local seenID, seenKey = {}, {}
for i = 0, n - 1 do
  local b = 4 + i * 6
  local id, generated, tail, prio, due, dk = ARGV[b], ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3]), ARGV[b + 4], ARGV[b + 5]
  local existing = nil
  if seenID[id] then
    existing = id
  elseif generated ~= '1' and redis.call('HEXISTS', kRec, id) == 1 then
    existing = id
  end
  if not existing and dk ~= '' then
    existing = seenKey[dk] or redis.call('HGET', kDedup, dk)
  end
  if existing then
    out[#out + 1] = '0'
    out[#out + 1] = existing
  else
    seenID[id] = true
    recs[#recs + 1] = id
    recs[#recs + 1] = nowText .. tail
    if prio > 0 then
      prios[#prios + 1] = id
      prios[#prios + 1] = int(prio)
    end
    if dk ~= '' then
      seenKey[dk] = id
      dedupOf[#dedupOf + 1] = id
      dedupOf[#dedupOf + 1] = dk
      dedup[#dedup + 1] = dk
      dedup[#dedup + 1] = id
    end
    local at = now
    local c = string.sub(due, 1, 1)
    if c == '+' then
      at = now + tonumber(string.sub(due, 2))
    elseif c == '@' then
      at = tonumber(string.sub(due, 2))
    end
    ids[#ids + 1] = id
    if at > now then
      delayed[#delayed + 1] = int(at)
      delayed[#delayed + 1] = id
      dues[#dues + 1] = int(at)
      anyDue = true
      if not earliest or at < earliest then earliest = at end
    else
      waiting[#waiting + 1] = prio == 0 and nowScore or int(prio * PRIO + now)
      waiting[#waiting + 1] = id
      dues[#dues + 1] = ''
    end
    out[#out + 1] = '1'
    out[#out + 1] = id
  end
end
call_many('HSET', kRec, nil, recs)
call_many('HSET', kPrio, nil, prios)
call_many('HSET', kDedupOf, nil, dedupOf)
call_many('HSET', kDedup, nil, dedup)
if #waiting > 0 then
  call_many('ZADD', kWaiting, nil, waiting)
  wake()
end
if #delayed > 0 then
  call_many('ZADD', kDelayed, nil, delayed)
  wake_for_delayed(earliest)
end
if not anyDue then dues = nil end
emit('added', ids, nil, nil, dues)
return remember(pack(out))
