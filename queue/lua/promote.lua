-- promote makes a delayed job ready now. Remembers its reply.
-- ARGV[3] id. Reply: 'ok', 'missing' or 'state'.
local prev = remembered()
if prev then return prev end
local id = ARGV[3]
local st = state_of(id)
if not st then return remember(pack({ 'missing' })) end
if st ~= 'delayed' then return remember(pack({ 'state' })) end
redis.call('ZREM', kDelayed, id)
make_waiting(id, now_ms())
wake()
emit('promoted', { id })
return remember(pack({ 'ok' }))
