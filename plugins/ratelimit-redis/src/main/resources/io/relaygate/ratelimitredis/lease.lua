-- Leases up to ARGV[3] bytes of one principal's tokens to remote ARGV[4]. The bucket is a GCRA kept as one number
-- under KEYS[1]: the time, in microseconds of Redis's own clock (so that every remote measures the same time), at
-- which it will be full again. ARGV[1] is the rate in bytes per second, ARGV[2] the capacity in bytes. KEYS[2] holds,
-- per remote, when it last asked for this principal: the remotes asking within the last second share the rate, and
-- each paces its waiters at its share.
-- Returns {bytes granted, microseconds until the rest could be granted (0 when all was), remotes asking}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local perByte = 1000000 / tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local asked = tonumber(ARGV[3])
local full = tonumber(redis.call('GET', KEYS[1])) or now
if full < now then
    full = now
end
local granted = math.max(0, math.min(asked, math.floor((now + capacity * perByte - full) / perByte)))
if granted > 0 then
    full = full + granted * perByte
    -- Kept while it is not full, and a second more: a bucket nobody uses costs nothing.
    redis.call('SET', KEYS[1], string.format('%.0f', full), 'PX', math.ceil((full - now) / 1000) + 1000)
end
local wait = 0
if granted < asked then
    wait = math.ceil(full + (asked - granted - capacity) * perByte - now)
end

local nowMillis = math.floor(now / 1000)
redis.call('HSET', KEYS[2], ARGV[4], nowMillis)
redis.call('PEXPIRE', KEYS[2], 2000)
local asking = 0
local seen = redis.call('HGETALL', KEYS[2])
for i = 1, #seen, 2 do
    if tonumber(seen[i + 1]) >= nowMillis - 1000 then
        asking = asking + 1
    else
        redis.call('HDEL', KEYS[2], seen[i])
    end
end
return {granted, math.max(0, wait), asking}
