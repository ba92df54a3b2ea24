-- One whole step of RedisWindowStore on one (user, endpoint) pair, atomically: the sliding-window rule
-- of dev.controltower.spi.WindowMath, value for value as the in-memory store applies it.
--
-- KEYS[1] the pair's hash, KEYS[2] the user's index (a set of the user's pair keys; same hash tag).
-- ARGV: op ('a' acquire, 'c' check, 'r' read, 'q' remove if quiet, 'R' reserve tokens, 'F' refund
--   tokens, 'D' debit tokens, 'T' read tokens; 'x' resets a user and 'P', 'V', 'H' are the permits,
--   below), now (epoch ms, or '' for TIME), cost (the tokens for R, F, D), bucket count B, retention ms,
--   user, endpoint (both as stored: encoded bytes), n request windows, then per window: its field ('b',
--   'm', 'h' or 'd'), its length W in ms, its limit; then t token windows likewise (fields 'M', 'H',
--   'D'); then countedAt (the refund's reservation time; ignored by the other ops).
--
-- The pair's hash: u, e (the names, to tell a hash collision from the pair), t (the pair's time: the
-- latest time any step touched it), and per window type a field of live buckets, oldest first, each
-- "index:count:last;" (last = the time of the bucket's latest admission). Windows that the plan does
-- not enable keep their buckets untouched; token windows are windows like the others (a count may
-- exceed the limit after an overshooting debit; a refund leaves last alone).
--
-- Time: the pair stands at T = max(now, t). Liveness is judged at T (a bucket counts while
-- T - last < W); waits are measured from now; admissions are recorded at T. An acquire (admitted or
-- not), a reservation that could fit, a debit and a refund move t up to T; check, read, the token
-- read, the quiet removal and a reservation above a limit write nothing (and create no key). Numbers
-- are Lua doubles, exact for integers below 2^53: epoch ms (1.8e12) and counts stay far below.
--
-- Returns integers: admitted {1, tightest (0-based, -1 for no window), its count, remaining (-1 for
-- no window: unbounded), ms until its count next falls} (a reservation adds T, the time it counted at,
-- and counts over its token windows); refused {0, counts..., waits..., ms until the first count
-- changes} over the windows checked (acquire and check: request then token windows; reserve: token
-- windows) with wait -1 for a window with room and -2 for a window whose limit is below the cost; read
-- {2, counts..., resets...}; quiet removal {3, 1 if removed else 0}; debit and refund {4}.

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

-- The time of this step: Redis's (TIME) unless the caller gives one (tests).
local now
if ARGV[2] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
  now = tonumber(ARGV[2])
end

if op == 'P' or op == 'V' or op == 'H' then
  -- Concurrency permits: KEYS[1] is the pair's permit set (a sorted set, same hash tag as the pair),
  -- member = permit id, score = lease end (epoch ms). A permit is held while now < its lease end.
  -- 'P' acquire (ARGV[3] max, ARGV[4] lease ms, ARGV[5] id): {1} taken, {0} all held, {-3} id in use;
  -- 'V' release (ARGV[3] id): {1} if it returned a held permit, else {0}; 'H' held: {count}.
  local permits = KEYS[1]
  local stamp = string.format('%d', now)
  if op == 'H' then
    return {redis.call('ZCOUNT', permits, '(' .. stamp, '+inf')}
  end
  redis.call('ZREMRANGEBYSCORE', permits, '-inf', stamp)
  if op == 'V' then
    return {redis.call('ZREM', permits, ARGV[3])}
  end
  local max, lease, id = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
  if redis.call('ZCARD', permits) >= max then
    return {0}
  end
  if redis.call('ZSCORE', permits, id) then
    return {-3}
  end
  redis.call('ZADD', permits, string.format('%d', now + lease), id)
  -- The set lives as long as its longest lease: a crashed holder's permits vanish with it.
  if redis.call('PTTL', permits) < lease then
    redis.call('PEXPIRE', permits, lease)
  end
  return {1}
end

local key, index = KEYS[1], KEYS[2]
local cost = tonumber(ARGV[3])
local buckets = tonumber(ARGV[4])
local retain = tonumber(ARGV[5])
local user, endpoint = ARGV[6], ARGV[7]
local n = tonumber(ARGV[8])
local t = tonumber(ARGV[9 + 3 * n])
-- Windows 1..n are the request windows, n+1..m the token windows (same buckets, same rule).
local m = n + t
local countedAt = tonumber(ARGV[10 + 3 * m])

local codes, lengths, limits = {}, {}, {}
local fields = {'u', 'e', 't'}
for i = 1, m do
  local at = (i <= n) and (8 + 3 * (i - 1)) or (9 + 3 * (i - 1))
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
for i = 1, m do
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

-- The writes that stand the pair at T (and name it, if it is new).
local function stand()
  local writes = {'t', string.format('%d', at)}
  if not exists then
    writes[3], writes[4], writes[5], writes[6] = 'u', user, 'e', endpoint
  end
  return writes
end

-- Adds `amount` to window i's bucket of T, which becomes its latest admission.
local function add(i, amount)
  local size = lengths[i] / buckets
  local current = math.floor(at / size)
  local list = live[i]
  local newest = list[#list]
  if newest ~= nil and newest[1] == current then
    newest[2] = newest[2] + amount
    newest[3] = at
  else
    list[#list + 1] = {current, amount, at}
  end
  counts[i] = counts[i] + amount
end

-- Appends window i's live buckets, as stored, to `writes`.
local function write(writes, i)
  local parts = {}
  for j, bucket in ipairs(live[i]) do
    parts[j] = string.format('%d:%d:%d;', bucket[1], bucket[2], bucket[3])
  end
  writes[#writes + 1] = codes[i]
  writes[#writes + 1] = table.concat(parts)
end

-- A reading of windows from..to: {2, counts..., resets...}.
local function reading(from, to)
  local out = {2}
  local k = to - from + 1
  for i = from, to do
    out[2 + i - from] = counts[i]
    local reset = freed(i, 1)
    out[2 + k + i - from] = reset == -2 and 0 or reset
  end
  return out
end

-- The admission over windows from..to: the least room after it, the first in order on a tie.
-- {1, tightest (0-based in the range, -1 for none), its count, remaining (-1: unbounded), reset}.
local function admitted(from, to)
  local tightest, room = -1, nil
  for i = from, to do
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
  return {1, tightest - from, counts[tightest], room, reset == -2 and 0 or reset}
end

if op == 'r' then
  return reading(1, n)
elseif op == 'T' then
  return reading(n + 1, m)
elseif op == 'q' then
  for i = 1, m do
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

if op == 'D' or op == 'F' then
  -- Debit: adds to every token window unconditionally (it may overshoot). Refund: subtracts from the
  -- bucket of countedAt in every token window where that bucket is still live, never below 0, leaving
  -- its latest admission; nothing at all for a pair that no longer exists.
  if op == 'F' and not exists then
    return {4}
  end
  local writes = stand()
  for i = n + 1, m do
    if op == 'D' then
      add(i, cost)
    else
      local target = math.floor(countedAt / (lengths[i] / buckets))
      for _, bucket in ipairs(live[i]) do
        if bucket[1] == target then
          local back = cost
          if back > bucket[2] then
            back = bucket[2]
          end
          bucket[2] = bucket[2] - back
          counts[i] = counts[i] - back
        end
      end
    end
    write(writes, i)
  end
  redis.call('HSET', key, unpack(writes))
  keep()
  return {4}
end

-- Whether the step fits, and the refusal {0, counts..., waits..., ms until the first count changes}
-- with wait -1 for a window with room and -2 for a window whose limit is below the cost. An admission
-- (acquire, check) checks the request windows with the cost and the token windows with cost 0 (full:
-- count >= limit refuses, with the wait until count - limit + 1 has left); a reservation ('R') checks
-- the token windows alone with the cost.
local from, to = 1, m
if op == 'R' then
  from = n + 1
end
local function wait(i)
  if i > n and op ~= 'R' then
    if counts[i] < limits[i] then
      return -1
    end
    return freed(i, counts[i] - limits[i] + 1)
  end
  if cost > limits[i] then
    return -2
  elseif counts[i] <= limits[i] - cost then
    return -1
  end
  return freed(i, counts[i] + cost - limits[i])
end

local fits, ever = true, true
for i = from, to do
  local w = wait(i)
  if w ~= -1 then
    fits = false
  end
  if w == -2 then
    ever = false
  end
end

if not fits then
  if op == 'a' or (op == 'R' and ever) then
    -- As the in-memory store does, an acquire (or a reservation that could fit) leaves the pair in
    -- the store even when it refuses, standing at T.
    if not exists then
      redis.call('HSET', key, 'u', user, 'e', endpoint, 't', string.format('%d', at))
      keep()
    else
      touch()
    end
  end
  local out = {0}
  local k = to - from + 1
  local change = -2
  for i = from, to do
    out[2 + i - from] = counts[i]
    out[2 + k + i - from] = wait(i)
    -- When the first count changes (its oldest live bucket dies); until then, without admissions or
    -- refunds, this very refusal stands, each wait shorter by the time passed. -2: nothing counted.
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
  out[2 + 2 * k] = change
  return out
end

if op == 'a' then
  local writes = stand()
  for i = 1, n do
    add(i, cost)
    write(writes, i)
  end
  redis.call('HSET', key, unpack(writes))
  keep()
elseif op == 'R' then
  local writes = stand()
  for i = n + 1, m do
    add(i, cost)
    write(writes, i)
  end
  redis.call('HSET', key, unpack(writes))
  keep()
  local out = admitted(n + 1, m)
  out[6] = at
  return out
end

return admitted(1, n)
