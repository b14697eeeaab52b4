-- Records that remote ARGV[1] is alive in the sorted set KEYS[1] (scored by Redis's clock, in milliseconds), drops
-- the remotes not seen for ARGV[2] milliseconds, and returns how many are left: the share each remote falls back to
-- when Redis goes away is 1 / that count.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('PEXPIRE', KEYS[1], window * 2)
return redis.call('ZCARD', KEYS[1])
