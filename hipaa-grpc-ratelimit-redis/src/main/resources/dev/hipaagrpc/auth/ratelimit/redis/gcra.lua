-- One rate-limit decision, atomically, on Redis's clock: GCRA (the generic cell rate algorithm),
-- equivalent to a token bucket of capacity ARGV[2] refilled at one permit per ARGV[1] µs.
-- KEYS[1]: the bucket (a keyed hash, never an identifier), holding the theoretical arrival time
--          in µs since the epoch. ARGV[1]: emission interval in µs. ARGV[2]: burst.
-- Returns 0 when the permit is granted, else the milliseconds until the next one (>= 1).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return math.max(1, math.ceil((allow_at - now) / 1000))
end
-- The key carries state only until new_tat: then it equals an absent key, so it expires then.
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX',
  math.max(1, math.ceil((new_tat - now) / 1000)))
return 0
