-- remove deletes a job that is not running. Remembers its reply.
-- ARGV[3] id. Reply: 'ok', 'active' (refused: cancel it first) or 'missing'.
local prev = remembered()
if prev then return prev end
local id = ARGV[3]
local st = state_of(id)
if st == 'active' then return remember(pack({ 'active' })) end
if st then redis.call('ZREM', set_key(st), id) end
if not st and redis.call('HEXISTS', kRec, id) == 0 then return remember(pack({ 'missing' })) end
delete_job(id)
emit('removed', { id })
return remember(pack({ 'ok' }))
