-- release hands unfinished jobs back to the front of the waiting set, as a
-- worker shuts down. It consumes no retry and counts no stall.
-- ARGV: eventsMax, then pairs id, token. Returns how many were handed back.
local n = 0
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], tonumber(ARGV[i + 1])
  local d = get_run(id)
  if d == token and redis.call('ZREM', kActive, id) == 1 then
    make_waiting(id, true)
    emit('e', 'released', 'id', id)
    n = n + 1
  end
end
if n > 0 then wake() end
return n
