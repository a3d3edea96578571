-- exporter claims or renews the role of exporting a queue's gauges read
-- from Redis: KEYS[1] the role's key, ARGV[1] this process's id, ARGV[2]
-- the lease in ms. The holder renews on every scrape; another process takes
-- over once the lease runs out. Safe to run again after a lost reply: a
-- holder's renewal is idempotent, and a claim by a process that already
-- holds the role renews it. Reply: 1 when this process holds the role.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
