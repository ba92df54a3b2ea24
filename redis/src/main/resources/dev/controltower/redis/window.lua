-- One whole step of RedisWindowStore on one (user, endpoint) pair, atomically: the sliding-window rule
-- of dev.controltower.spi.WindowMath, value for value as the in-memory store applies it.
--
-- KEYS[1] the pair's hash, KEYS[2] the user's index (a set of the user's pair keys; same hash tag).
-- ARGV: op ('a' acquire, 'c' check, 'r' read, 'q' remove if quiet; 'x' resets a user, below), now (epoch ms, or '' for TIME),
--   cost, bucket count B, retention ms, user, endpoint (both as stored: encoded bytes), n windows, then
--   per window: its field ('b', 'm', 'h' or 'd'), its length W in ms, its limit.
--
-- The pair's hash: u, e (the names, to tell a hash collision from the pair), t (the pair's time: the
-- latest time any step touched it), and per window type a field of live buckets, oldest first, each
-- "index:count:last;" (last = the time of the bucket's latest admission). Windows that the plan does
-- not enable keep their buckets untouched.
--
-- Time: the pair stands at T = max(now, t). Liveness is judged at T (a bucket counts while
-- T - last < W); waits are measured from now; admissions are recorded at T. An acquire (admitted or
-- not) moves t up to T; check, read and the quiet removal write nothing (and create no key). Numbers are Lua doubles, exact for integers below 2^53: epoch ms (1.8e12) and
-- counts stay far below.
--
-- Returns integers: admitted {1, tightest (0-based, -1 for no window), its count, remaining (-1 for
-- no window: unbounded), ms until its count next falls}; refused {0, counts..., waits..., ms until the
-- first count changes} with wait -1 for a window with room and -2 for a window whose limit is below
-- the cost; read {2, counts...,
-- resets...}; quiet removal {3, 1 if removed else 0}.

local op = ARGV[1]
if op == 'x' then
  -- Reset a user: KEYS[1] is the user's index. Deletes every pair it lists (all in its hash slot) and
  -- returns the endpoints (as stored) of those that still existed.
  local removed = {}
  for _, pair in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local name = redis.call('HGET', pair, 'e')
    if name then
      removed[#removed + 1] = name
      redis.call('DEL', pair)
    end
  end
  redis.call('DEL', KEYS[1])
  return removed
end

local key, index = KEYS[1], KEYS[2]
local now
if ARGV[2] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
  now = tonumber(ARGV[2])
end
local cost = tonumber(ARGV[3])
local buckets = tonumber(ARGV[4])
local retain = tonumber(ARGV[5])
local user, endpoint = ARGV[6], ARGV[7]
local n = tonumber(ARGV[8])

local codes, lengths, limits = {}, {}, {}
local fields = {'u', 'e', 't'}
for i = 1, n do
  local at = 8 + 3 * (i - 1)
  codes[i] = ARGV[at + 1]
  lengths[i] = tonumber(ARGV[at + 2])
  limits[i] = tonumber(ARGV[at + 3])
  fields[3 + i] = codes[i]
end

local stored = redis.call('HMGET', key, unpack(fields))
local exists = stored[1] ~= false
if exists and (stored[1] ~= user or stored[2] ~= endpoint) then
  return redis.error_reply('CTCOLLISION two pairs share the key ' .. key)
end
local latest = exists and tonumber(stored[3]) or nil
local at = now
if latest ~= nil and latest > at then
  at = latest
end

-- The live buckets of each window at T, oldest first, and the window's count.
local live, counts = {}, {}
for i = 1, n do
  local list, sum = {}, 0
  local text = stored[3 + i]
  if text then
    for b, c, l in string.gmatch(text, '(-?%d+):(%d+):(-?%d+);') do
      local last = tonumber(l)
      if at - last < lengths[i] then
        list[#list + 1] = {tonumber(b), tonumber(c), last}
        sum = sum + tonumber(c)
      end
    end
  end
  live[i] = list
  counts[i] = sum
end

-- ms from now until `needed` of window i's count has left it; -2 if it holds less.
local function freed(i, needed)
  local sum = 0
  for _, bucket in ipairs(live[i]) do
    sum = sum + bucket[2]
    if sum >= needed then
      local wait = bucket[3] + lengths[i] - now
      if wait < 0 then
        wait = 0
      end
      return wait
    end
  end
  return -2
end

local function touch()
  if exists and at > latest then
    redis.call('HSET', key, 't', string.format('%d', at))
  end
end

if op == 'r' or op == 'q' then
  if op == 'q' then
    for i = 1, n do
      if counts[i] > 0 then
        return {3, 0}
      end
    end
    if not exists then
      return {3, 0}
    end
    redis.call('DEL', key)
    redis.call('SREM', index, key)
    return {3, 1}
  end
  local out = {2}
  for i = 1, n do
    out[1 + i] = counts[i]
  end
  for i = 1, n do
    local reset = freed(i, 1)
    out[1 + n + i] = reset == -2 and 0 or reset
  end
  return out
end

-- The pair's retention, measured from its time T (ahead of now when the clock stepped back).
local function keep()
  local ttl = retain + (at - now)
  if ttl < 1 then
    ttl = 1
  end
  if redis.call('PTTL', key) < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
  redis.call('SADD', index, key)
  if redis.call('PTTL', index) < ttl then
    redis.call('PEXPIRE', index, ttl)
  end
end

local fits = true
for i = 1, n do
  if cost > limits[i] or counts[i] > limits[i] - cost then
    fits = false
  end
end

if not fits then
  if op == 'a' and not exists then
    -- As the in-memory store does, an acquire leaves the pair in the store even when it refuses.
    redis.call('HSET', key, 'u', user, 'e', endpoint, 't', string.format('%d', at))
    keep()
  elseif op == 'a' then
    touch()
  end
  local out = {0}
  for i = 1, n do
    out[1 + i] = counts[i]
  end
  for i = 1, n do
    local wait
    if cost > limits[i] then
      wait = -2
    elseif counts[i] <= limits[i] - cost then
      wait = -1
    else
      wait = freed(i, counts[i] + cost - limits[i])
    end
    out[1 + n + i] = wait
  end
  -- When the first count of the plan changes (its oldest live bucket dies); until then, without
  -- admissions, this very refusal stands, each wait shorter by the time passed. -2: nothing counted.
  local change = -2
  for i = 1, n do
    local oldest = live[i][1]
    if oldest ~= nil then
      local death = oldest[3] + lengths[i] - now
      if death < 0 then
        death = 0
      end
      if change == -2 or death < change then
        change = death
      end
    end
  end
  out[2 + 2 * n] = change
  return out
end

if op == 'a' then
  local writes = {'t', string.format('%d', at)}
  if not exists then
    writes[3], writes[4], writes[5], writes[6] = 'u', user, 'e', endpoint
  end
  for i = 1, n do
    local size = lengths[i] / buckets
    local current = math.floor(at / size)
    local list = live[i]
    local newest = list[#list]
    if newest ~= nil and newest[1] == current then
      newest[2] = newest[2] + cost
      newest[3] = at
    else
      list[#list + 1] = {current, cost, at}
    end
    counts[i] = counts[i] + cost
    local parts = {}
    for j, bucket in ipairs(list) do
      parts[j] = string.format('%d:%d:%d;', bucket[1], bucket[2], bucket[3])
    end
    writes[#writes + 1] = codes[i]
    writes[#writes + 1] = table.concat(parts)
  end
  redis.call('HSET', key, unpack(writes))
  keep()
end

-- The tightest window: the least room after this request, the first in plan order on a tie.
local tightest, room = -1, nil
for i = 1, n do
  local left = limits[i] - counts[i]
  if left < 0 then
    left = 0
  end
  if room == nil or left < room then
    tightest, room = i, left
  end
end
if tightest < 0 then
  return {1, -1, 0, -1, 0}
end
local reset = freed(tightest, 1)
return {1, tightest - 1, counts[tightest], room, reset == -2 and 0 or reset}
