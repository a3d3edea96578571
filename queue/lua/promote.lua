-- promote makes a delayed job ready now. ARGV: eventsMax, id.
-- Returns 'ok', 'missing' or 'state'.
local id = ARGV[2]
local st = state_of(id)
if not st then return 'missing' end
if st ~= 'delayed' then return 'state' end
redis.call('ZREM', kDelayed, id)
make_waiting(id, false)
wake()
emit('e', 'promoted', 'id', id)
return 'ok'
