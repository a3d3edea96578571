-- snapshot.lua returns every key of the database with its type, its time to
-- live in milliseconds (-1: none) and its contents, read in one atomic step
-- so that a job is never caught half way between two keys. It reads keys it
-- cannot declare (KEYS *), which only a single in-process server allows.
--
-- Reply: { {key, type, pttl, contents}, ... } where contents is
--   string: {value}; list: its items; set: its members;
--   hash: field, value, ...; zset: member, score, ...;
--   stream: XRANGE's reply, { {id, {field, value, ...}}, ... }.
local out = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
  local t = redis.call('TYPE', k)
  if type(t) == 'table' then t = t['ok'] end
  local v
  if t == 'string' then
    v = {redis.call('GET', k)}
  elseif t == 'list' then
    v = redis.call('LRANGE', k, 0, -1)
  elseif t == 'set' then
    v = redis.call('SMEMBERS', k)
  elseif t == 'hash' then
    v = redis.call('HGETALL', k)
  elseif t == 'zset' then
    v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  elseif t == 'stream' then
    v = redis.call('XRANGE', k, '-', '+')
  else
    return redis.error_reply('snapshot: key ' .. k .. ' has type ' .. tostring(t) .. ', which cannot be saved')
  end
  out[#out + 1] = {k, t, redis.call('PTTL', k), v}
end
return out
