-- common.lua is prepended to every script. Every script receives the same
-- KEYS, all of one queue and all under the queue's hash tag, so Redis Cluster
-- routes them to one slot and every key a script touches is declared.
--
-- Data layout (field names in the data hash are "<job id>|<letter>"; the
-- suffix is always two bytes, so no two ids can produce the same field):
--   data    HASH  id|j record "<addedAt>;<nameLen>;<optsLen>;<name><opts><payload>"
--                 id|u run state "<deliveries>,<failures>,<stalls>,<startedAt>"
--                 id|q priority (only when > 0)   id|k dedup key (only when set)
--                 id|p progress JSON   id|r result JSON   id|e history JSON array
--                 id|c cancel requested
--   waiting ZSET  score priority*2^43 + arrival sequence
--   delayed ZSET  score due time (ms)       active ZSET score lease expiry (ms)
--   completed, failed ZSET score finish time (ms)
--   meta    HASH  seq, paused, completed_total, failed_total
--   dedup   HASH  dedup key -> job id        events STREAM lifecycle events
--   marker  LIST  at most one element; idle workers block on it (BLPOP)
-- ARGV[1] is always the events stream's max length (0: no events).
local kMeta, kData, kWaiting, kDelayed, kActive, kCompleted, kFailed, kDedup, kEvents, kMarker =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local eventsMax = tonumber(ARGV[1])
local PRIO = 8796093022208 -- 2^43: priority 0..1000 times this plus a sequence stays below 2^53

-- Redis's clock, not the client's, so clients with skewed clocks agree on
-- due times and leases.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n) return string.format('%d', n) end

local function emit(...)
  if eventsMax > 0 then
    redis.call('XADD', kEvents, 'MAXLEN', '~', eventsMax, '*', ...)
  end
end

-- wake lets one idle worker out of its BLPOP. The marker list never holds
-- more than one element; a worker that finds more work than it can take
-- wakes the next one.
local function wake()
  if redis.call('LLEN', kMarker) == 0 then
    redis.call('LPUSH', kMarker, '1')
  end
end

local function get_run(id)
  local r = redis.call('HGET', kData, id .. '|u')
  if not r then return 0, 0, 0, 0 end
  local d, f, s, t = string.match(r, '^(%d+),(%d+),(%d+),(%d+)$')
  return tonumber(d), tonumber(f), tonumber(s), tonumber(t)
end

local function run_string(d, f, s, t)
  return int(d) .. ',' .. int(f) .. ',' .. int(s) .. ',' .. int(t)
end

local function priority(id)
  return tonumber(redis.call('HGET', kData, id .. '|q') or '0')
end

local function next_seq()
  return redis.call('HINCRBY', kMeta, 'seq', 1)
end

-- make_waiting puts a job in the waiting set behind jobs of its priority, or
-- ahead of them when front is true (jobs handed back unfinished).
local function make_waiting(id, front)
  local seq = 0
  if not front then seq = next_seq() end
  redis.call('ZADD', kWaiting, priority(id) * PRIO + seq, id)
end

local function make_delayed(id, due)
  redis.call('ZADD', kDelayed, due, id)
  -- A job that is now the earliest wakes a worker so it can shorten its wait.
  local head = redis.call('ZRANGE', kDelayed, 0, 0)
  if head[1] == id then wake() end
end

local function drop_dedup(id)
  local k = redis.call('HGET', kData, id .. '|k')
  if k then
    if redis.call('HGET', kDedup, k) == id then redis.call('HDEL', kDedup, k) end
    redis.call('HDEL', kData, id .. '|k')
  end
end

-- delete_job removes a job's data; the caller has removed it from its set.
-- noDedup, when true, says the job has no dedup key (the worker knows), which
-- saves a lookup on the hot path.
local function delete_job(id, noDedup)
  if not noDedup then drop_dedup(id) end
  redis.call('HDEL', kData, id .. '|j', id .. '|u', id .. '|q', id .. '|p', id .. '|r', id .. '|e', id .. '|c')
end

local function push_history(id, entry)
  local h = redis.call('HGET', kData, id .. '|e')
  if h then
    h = string.sub(h, 1, -2) .. ',' .. entry .. ']'
  else
    h = '[' .. entry .. ']'
  end
  redis.call('HSET', kData, id .. '|e', h)
end

local function history_entry(attempt, msg, now, stalled)
  local e = '{"attempt":' .. int(attempt) .. ',"error":' .. cjson.encode(msg) .. ',"at":' .. int(now)
  if stalled then e = e .. ',"stalled":true' end
  return e .. '}'
end

-- keep files an ended job in set (completed or failed) under a retention
-- spec: "k:<count>:<ageMs>" (0 = no limit), trimming the oldest past it.
local function keep(set, id, now, spec)
  redis.call('ZADD', set, now, id)
  local count, age = string.match(spec, '^k:(%d+):(%d+)$')
  count, age = tonumber(count) or 0, tonumber(age) or 0
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
      if over > 1000 then over = 1000 end
      local old = redis.call('ZRANGE', set, 0, over - 1)
      for _, oid in ipairs(old) do
        redis.call('ZREM', set, oid)
        delete_job(oid)
      end
    end
  end
end

-- options decodes a job's stored options (rare paths only: the hot paths get
-- what they need from the worker).
local function options(id)
  local rec = redis.call('HGET', kData, id .. '|j')
  if not rec then return {} end
  local nl, ol, start = string.match(rec, '^%d+;(%d+);(%d+);()')
  if not start then return {} end
  local s = start + tonumber(nl)
  local ok, opts = pcall(cjson.decode, string.sub(rec, s, s + tonumber(ol) - 1))
  if ok and type(opts) == 'table' then return opts end
  return {}
end

-- fail_spec is the retention spec for a job failing outside a worker's ack.
local function fail_spec(id)
  local r = options(id).removeOnFail
  if type(r) == 'table' and r.policy == 'remove' then return 'r' end
  local count, age = 0, 0
  if type(r) == 'table' then
    count = tonumber(r.count) or 0
    age = math.floor((tonumber(r.age) or 0) / 1000000)
  end
  return 'k:' .. int(count) .. ':' .. int(age)
end

-- fail_now ends a job that is in no set as failed with msg.
local function fail_now(id, now, msg, stalled)
  local d, f, s, t = get_run(id)
  push_history(id, history_entry(f + 1, msg, now, stalled))
  redis.call('HSET', kData, id .. '|u', run_string(d, f + 1, s, t))
  redis.call('HINCRBY', kMeta, 'failed_total', 1)
  drop_dedup(id)
  local spec = fail_spec(id)
  if spec == 'r' then delete_job(id) else keep(kFailed, id, now, spec) end
  emit('e', 'failed', 'id', id, 'a', f + 1, 'err', msg)
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
