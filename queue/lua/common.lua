-- common.lua follows the generated prelude (scripts.go) in every script.
-- Every key of one queue carries the queue's hash tag, so Redis Cluster runs
-- a script on one shard, and every key a script touches is declared.
--
-- A job lives in one hash per kind of data, each field named by its id, so
-- that batches pass ids to Redis as they are: kRec its record
-- "<addedAt>;<fail retention>;<nameLen>;<optsLen>;<name><opts><payload>",
-- kRun its run state "<deliveries>,<failures>,<stalls>,<startedAt>", kPrio
-- its priority (only when > 0), kDedupOf its dedup key (only when set),
-- kProgress, kResult and kHistory their JSON, kCancel a pending cancel.
-- Waiting jobs score priority * 2^43 + the time they became ready (ms), so
-- equal priorities run in the order they became ready; a job handed back
-- unfinished scores priority * 2^43 and goes first.

local PRIO = 8796093022208 -- 2^43: above any ms time until the year 2248; 1000 * 2^43 + time < 2^53

-- BIG is a field and member that no job id can be (ids hold no control
-- characters) and longer than Redis's compact-encoding limits (64 bytes).
-- kRun and kActive always hold it, so Redis keeps them as a hash table and a
-- skip list: small hashes and sorted sets otherwise get the listpack
-- encoding, searched linearly, and a batch of n jobs then costs n² (measured
-- with callgrind: most of Redis's work per job at concurrency 100). In
-- kActive its score is +inf: no lease ever reaches it.
local BIG = '\0eventsd: this field keeps its hash or sorted set out of the listpack encoding\0'

local function keep_big()
  redis.call('HSETNX', kRun, BIG, '')
  redis.call('ZADD', kActive, 'NX', '+inf', BIG)
end

-- active_head returns the earliest lease expiry, or nil.
local function active_head()
  local h = redis.call('ZRANGE', kActive, 0, 0, 'WITHSCORES')
  if h[1] and h[1] ~= BIG then return tonumber(h[2]) end
  return nil
end

-- Redis's clock, not the client's, so clients with skewed clocks agree on
-- due times and leases. Also returns the time in µs, as text.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), t[1] .. string.format('%06d', tonumber(t[2]))
end

local function int(n) return string.format('%d', n) end

-- STEP bounds the values handed to one command or one concat: Redis's
-- unpack takes at most 8000, and miniredis's Lua (eventsd dev) has a stack
-- of about 5000.
local STEP = 1000

-- call_many runs cmd on key with args in steps of STEP values (STEP is even,
-- so field-value and score-member pairs stay whole), after flag when given,
-- and returns the replies of the steps joined.
local function call_many(cmd, key, flag, args)
  if #args <= STEP then -- the usual case: one call, its reply as it is
    if #args == 0 then return {} end
    if flag then return redis.call(cmd, key, flag, unpack(args)) end
    return redis.call(cmd, key, unpack(args))
  end
  local out = {}
  for i = 1, #args, STEP do
    local j = math.min(i + STEP - 1, #args)
    local r
    if flag then
      r = redis.call(cmd, key, flag, unpack(args, i, j))
    else
      r = redis.call(cmd, key, unpack(args, i, j))
    end
    if type(r) == 'table' then
      for k = 1, #r do out[#out + 1] = r[k] end
    end
  end
  return out
end

-- pack formats a reply: each field "<byte length>:<bytes>". Go: pack, fields.
local function pack(list)
  local out, part = {}, {}
  for i = 1, #list do
    local s = list[i]
    part[#part + 1] = #s .. ':' .. s
    if #part == STEP then
      out[#out + 1] = table.concat(part)
      part = {}
    end
  end
  out[#out + 1] = table.concat(part)
  return table.concat(out)
end

local function unpack_fields(s)
  local out, pos = {}, 1
  while pos <= #s do
    local colon = string.find(s, ':', pos, true)
    local n = tonumber(string.sub(s, pos, colon - 1))
    out[#out + 1] = string.sub(s, colon + 1, colon + n)
    pos = colon + n + 1
  end
  return out
end

-- remembered returns the reply this request already got, if the call ran
-- before (its client lost the reply and retried). remember stores a reply
-- under the request's key and returns it.
local function remembered()
  if not kReq or requestID == '' then return nil end
  local v = redis.call('GET', kReq)
  if v and string.sub(v, 1, #requestID + 1) == requestID .. ':' then
    return string.sub(v, #requestID + 2)
  end
  return nil
end

local function remember(reply)
  if kReq and requestID ~= '' then
    redis.call('SET', kReq, requestID .. ':' .. reply, 'PX', requestTTL)
  end
  return reply
end

-- Run state. Go: parseRun, runState.String.
local function parse_run(r)
  local d, f, s, t = string.match(r or '', '^(%d+),(%d+),(%d+),(%d+)$')
  if not d then return 0, 0, 0, 0 end -- none yet (or unreadable: start again)
  return tonumber(d), tonumber(f), tonumber(s), tonumber(t)
end

local function format_run(d, f, s, t)
  return int(d) .. ',' .. int(f) .. ',' .. int(s) .. ',' .. int(t)
end

-- Record header. Go: recordTail, parseRecord.
local function record_header(rec)
  local added, spec, nl, ol, start = string.match(rec, '^(%d+);([^;]*);(%d+);(%d+);()')
  return tonumber(added), spec, tonumber(nl), tonumber(ol), start
end

-- Retention spec: 'r' removes, 'k:<count>:<age ms>' keeps. Go: Retention.spec, parseSpec.
local function parse_spec(spec)
  if spec == 'r' then return true, 0, 0 end
  local count, age = string.match(spec or '', '^k:(%d+):(%d+)$')
  return false, tonumber(count) or 0, tonumber(age) or 0
end

-- History entry (JSON). Go: historyEntry.
local function history_entry(attempt, msg, now, stalled)
  local e = '{"attempt":' .. int(attempt) .. ',"error":' .. cjson.encode(msg) .. ',"at":' .. int(now)
  if stalled then e = e .. ',"stalled":true' end
  return e .. '}'
end

local function push_history(id, entry)
  local h = redis.call('HGET', kHistory, id)
  if h then
    h = string.sub(h, 1, -2) .. ',' .. entry .. ']'
  else
    h = '[' .. entry .. ']'
  end
  redis.call('HSET', kHistory, id, h)
end

-- parse_stream_cap reads ARGV[1], "<max entries>,<max age ms>". Go:
-- streamCap.String. Anything else turns events off.
local function parse_stream_cap(s)
  local n, age = string.match(s or '', '^(%d+),(%d+)$')
  return tonumber(n) or 0, tonumber(age) or 0
end

local eventsMax, eventsMaxAge = parse_stream_cap(eventsCap)

-- emit adds one lifecycle stream entry for a batch of jobs that made the
-- same transition. Fields: e type; ids newline-separated (ids hold no
-- control characters); a attempts, comma-separated; err a JSON array of
-- messages; due comma-separated ms ('' for none); p progress JSON. Go:
-- parseEntry. Without ids it is about the queue; with an empty list, nothing.
--
-- The stream keeps the entries of the last eventsMaxAge ms, by the new
-- entry's id (Redis's clock, never going back), and at most about
-- eventsMax entries: memory follows the rate of jobs, whatever their
-- batching, and the count caps very high rates. Both trims are approximate
-- ('~': whole nodes only), so they cost little; the time bound is one XTRIM
-- per entry, never per job. XADD takes one trim strategy, hence two commands.
local function emit(kind, ids, attempts, errs, dues, progress)
  if eventsMax <= 0 or (ids and #ids == 0) then return end
  local f = { 'e', kind }
  if ids and #ids > 0 then
    f[#f + 1] = 'ids'
    f[#f + 1] = table.concat(ids, '\n')
  end
  if attempts and #attempts > 0 then
    f[#f + 1] = 'a'
    f[#f + 1] = table.concat(attempts, ',')
  end
  if errs and #errs > 0 then
    f[#f + 1] = 'err'
    f[#f + 1] = cjson.encode(errs)
  end
  if dues and #dues > 0 then
    f[#f + 1] = 'due'
    f[#f + 1] = table.concat(dues, ',')
  end
  if progress then
    f[#f + 1] = 'p'
    f[#f + 1] = progress
  end
  local id = redis.call('XADD', kEvents, 'MAXLEN', '~', eventsMax, '*', unpack(f))
  if eventsMaxAge > 0 then
    local ms = tonumber(string.match(id, '^(%d+)'))
    redis.call('XTRIM', kEvents, 'MINID', '~', int(ms - eventsMaxAge))
  end
end

-- wake lets one idle worker out of its BLPOP. The marker list never holds
-- more than one element; a worker that finds more work than it takes wakes
-- the next one.
local function wake()
  if redis.call('LLEN', kMarker) == 0 then
    redis.call('LPUSH', kMarker, '1')
  end
end

local function priority(id)
  return tonumber(redis.call('HGET', kPrio, id) or '0')
end

-- make_waiting puts a job in the waiting set, ready since readyAt, or ahead
-- of its priority when readyAt is 0 (a job handed back unfinished).
local function make_waiting(id, readyAt)
  redis.call('ZADD', kWaiting, priority(id) * PRIO + readyAt, id)
end

-- wake_for_delayed wakes a worker when a job due at due is now the earliest
-- delayed job, so a waiting worker shortens its wait.
local function wake_for_delayed(due)
  local head = redis.call('ZRANGE', kDelayed, 0, 0, 'WITHSCORES')
  if head[2] and tonumber(head[2]) >= due then wake() end
end

local function drop_dedup(id)
  local k = redis.call('HGET', kDedupOf, id)
  if k then
    if redis.call('HGET', kDedup, k) == id then redis.call('HDEL', kDedup, k) end
    redis.call('HDEL', kDedupOf, id)
  end
end

-- JOB_HASHES are the hashes a job has fields in, but for kDedupOf.
local JOB_HASHES = { kRec, kRun, kPrio, kProgress, kResult, kHistory, kCancel }

-- delete_job removes all of a job's data; the caller has taken it out of
-- its set.
local function delete_job(id)
  drop_dedup(id)
  for _, h in ipairs(JOB_HASHES) do redis.call('HDEL', h, id) end
end

-- trim applies a retention spec's limits to an ended-jobs set.
local function trim(set, now, spec)
  local _, count, age = parse_spec(spec)
  if age > 0 then
    local old = redis.call('ZRANGEBYSCORE', set, '-inf', now - age, 'LIMIT', 0, 1000)
    for _, oid in ipairs(old) do
      redis.call('ZREM', set, oid)
      delete_job(oid)
    end
  end
  if count > 0 then
    local over = redis.call('ZCARD', set) - count
    if over > 0 then
      local old = redis.call('ZRANGE', set, 0, math.min(over, 1000) - 1)
      for _, oid in ipairs(old) do
        redis.call('ZREM', set, oid)
        delete_job(oid)
      end
    end
  end
end

-- fail_spec is the failure retention stored in a job's record.
local function fail_spec(id)
  local rec = redis.call('HGET', kRec, id)
  if not rec then return 'r' end
  local _, spec = record_header(rec)
  return spec or 'k:0:0'
end

-- end_failed ends a job that is in no set as failed: attempted says whether
-- the run that ends counts as a failed attempt (a cancelled job that never
-- ran made none). Returns the attempt number reported.
local function end_failed(id, now, msg, stalled, attempted, cancelled)
  local d, f, s, t = parse_run(redis.call('HGET', kRun, id))
  local attempt = f
  if attempted then
    attempt = f + 1
    redis.call('HSET', kRun, id, format_run(d, f + 1, s, t))
  end
  push_history(id, history_entry(attempt, msg, now, stalled))
  if cancelled then
    redis.call('HINCRBY', kMeta, 'cancelled_total', 1)
  else
    redis.call('HINCRBY', kMeta, 'failed_total', 1)
  end
  drop_dedup(id)
  local spec = fail_spec(id)
  if spec == 'r' then
    delete_job(id)
  else
    redis.call('ZADD', kFailed, now, id)
    trim(kFailed, now, spec)
  end
  return attempt
end

-- state_of says which set holds a job, and its score there.
local function state_of(id)
  for _, st in ipairs({ { 'active', kActive }, { 'waiting', kWaiting }, { 'delayed', kDelayed },
    { 'completed', kCompleted }, { 'failed', kFailed } }) do
    local score = redis.call('ZSCORE', st[2], id)
    if score then return st[1], score end
  end
  return nil, nil
end

local function set_key(state)
  if state == 'waiting' then return kWaiting end
  if state == 'delayed' then return kDelayed end
  if state == 'active' then return kActive end
  if state == 'completed' then return kCompleted end
  if state == 'failed' then return kFailed end
end
