-- add.lua adds jobs. Adding is all-or-nothing per job: a job is in exactly one
-- set (waiting or delayed) with its data, or was not added.
-- Generated ids are "<epoch>-<n>": the queue's epoch is a random tag chosen
-- when its meta hash is created (ARGV[3] offers one), so ids stay unique even
-- if Redis loses its data and the counter starts again. Stores key event
-- idempotency on job ids; a reused id would silently drop an event.
-- ARGV: eventsMax, n, epoch offer, then n times: id ('' = generated), record tail
-- ("<nameLen>;<optsLen>;<name><opts><payload>"), priority, due ('' = now,
-- '+<ms>' = after a delay, '@<unix ms>' = at a time), dedup key ('' = none).
-- Returns the time, then per job: id, 1 when added or 0 when an existing job was returned.
local n = tonumber(ARGV[2])
local now = now_ms()
redis.call('HSETNX', kMeta, 'epoch', ARGV[3])
local epoch = redis.call('HGET', kMeta, 'epoch')
local seq = redis.call('HINCRBY', kMeta, 'seq', n) - n
local out = { now }
local ready = false
for i = 0, n - 1 do
  local b = 4 + i * 5
  local id, rec, prio, due, dk = ARGV[b], ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3], ARGV[b + 4]
  seq = seq + 1
  local existing
  if id == '' then
    id = epoch .. '-' .. int(seq)
  elseif redis.call('HEXISTS', kData, id .. '|j') == 1 then
    existing = id
  end
  if not existing and dk ~= '' then
    existing = redis.call('HGET', kDedup, dk)
  end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 0
  else
    local fields = { id .. '|j', int(now) .. ';' .. rec }
    if prio > 0 then
      fields[#fields + 1] = id .. '|q'
      fields[#fields + 1] = prio
    end
    if dk ~= '' then
      fields[#fields + 1] = id .. '|k'
      fields[#fields + 1] = dk
      redis.call('HSET', kDedup, dk, id)
    end
    redis.call('HSET', kData, unpack(fields))
    local at = now
    local c = string.sub(due, 1, 1)
    if c == '+' then
      at = now + tonumber(string.sub(due, 2))
    elseif c == '@' then
      at = tonumber(string.sub(due, 2))
    end
    if at > now then
      make_delayed(id, at)
      emit('e', 'added', 'id', id, 'due', int(at))
    else
      redis.call('ZADD', kWaiting, prio * PRIO + seq, id)
      ready = true
      emit('e', 'added', 'id', id)
    end
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
if ready then wake() end
return out
