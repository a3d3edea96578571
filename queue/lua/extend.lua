-- extend renews the leases a worker holds (its heartbeat). Idempotent: a
-- retried call renews again.
-- ARGV[3] leaseMs, then pairs id, the run state the fetch gave: a lease is
-- held while the run state is unchanged (see ack.lua).
-- Reply: the number of lost leases, their 1-based pair positions (expired
-- and taken over, or handed back), then the positions of jobs whose
-- cancellation was requested.
local lease = tonumber(ARGV[3])
local now = now_ms()
local ids, held = {}, {}
for i = 4, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
  held[#held + 1] = ARGV[i + 1]
end
if #ids == 0 then return pack({ '0' }) end
local runs = call_many('HMGET', kRun, nil, ids)
local cancels = call_many('HMGET', kCancel, nil, ids)
local lost, cancel, z = {}, {}, {}
for k = 1, #ids do
  if runs[k] ~= held[k] then
    lost[#lost + 1] = int(k)
  else
    z[#z + 1] = now + lease
    z[#z + 1] = ids[k]
    if cancels[k] then cancel[#cancel + 1] = int(k) end
  end
end
call_many('ZADD', kActive, 'XX', z)
local out = { int(#lost) }
for _, k in ipairs(lost) do out[#out + 1] = k end
for _, k in ipairs(cancel) do out[#out + 1] = k end
return pack(out)
