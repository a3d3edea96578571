-- remove deletes a job that is not running. ARGV: eventsMax, id.
-- Returns 'ok', 'active' (refused: cancel it first) or 'missing'.
local id = ARGV[2]
local st = state_of(id)
if st == 'active' then return 'active' end
if st then redis.call('ZREM', set_key(st), id) end
if not st and redis.call('HEXISTS', kData, id .. '|j') == 0 then return 'missing' end
delete_job(id)
emit('e', 'removed', 'id', id)
return 'ok'
