-- page returns a page of one state's set after a position, for cursor
-- paging: waiting, active and delayed in ascending (score, id) order (run
-- order, lease, due time), completed and failed descending (newest first).
-- A position is a (score, id) pair rather than a rank, so that jobs leaving
-- or entering the set before it do not shift the pages after it. Reads
-- only: safe to run again.
-- ARGV[3] state, ARGV[4] count, ARGV[5] first rank (used without a
-- position), ARGV[6] the position's score ('' none), ARGV[7] its id.
-- Reply: per member, its id and its score as an integer.
local state, count = ARGV[3], tonumber(ARGV[4])
local key = set_key(state)
local desc = state == 'completed' or state == 'failed'

local function range(from, to)
  if desc then return redis.call('ZREVRANGE', key, from, to, 'WITHSCORES') end
  return redis.call('ZRANGE', key, from, to, 'WITHSCORES')
end

-- before says whether member a sorts before b among equal scores, as Redis
-- sorts them (bytewise; Lua's < would use the locale's collation).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local start = tonumber(ARGV[5])
if ARGV[6] ~= '' then
  local score, id = tonumber(ARGV[6]), ARGV[7]
  local cur = redis.call('ZSCORE', key, id)
  if cur and tonumber(cur) == score then
    if desc then start = redis.call('ZREVRANK', key, id) + 1 else start = redis.call('ZRANK', key, id) + 1 end
  else
    -- The job has left the set (or moved within it): start at the first
    -- member past its old place, counting the members on its side of its
    -- score, then skipping the equal scores whose ids sort on its side.
    if desc then
      start = redis.call('ZCOUNT', key, '(' .. ARGV[6], '+inf')
    else
      start = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[6])
    end
    local scanning = true
    while scanning do
      local r = range(start, start + 99)
      if #r == 0 then break end
      for i = 1, #r, 2 do
        local past = tonumber(r[i + 1]) ~= score
        if not past then
          if desc then past = before(r[i], id) else past = before(id, r[i]) end
        end
        if past then
          scanning = false
          break
        end
        start = start + 1
      end
    end
  end
end

local r = range(start, start + count - 1)
local out = {}
for i = 1, #r, 2 do
  if r[i] ~= BIG then
    out[#out + 1] = r[i]
    out[#out + 1] = int(tonumber(r[i + 1]))
  end
end
return pack(out)
