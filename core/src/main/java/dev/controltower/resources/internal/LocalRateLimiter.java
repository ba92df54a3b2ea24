package dev.controltower.resources.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.WindowUsage;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process {@link RateLimiter}: window state per (user, endpoint) pair in a Caffeine cache,
 * bounded by size and expiring once idle. The counting algorithm is explained in {@link WindowState}.
 *
 * <p>Atomicity: the cache hands out one {@link WindowState} per pair; a check locks that state, so
 * checks on one pair are serialized and checks on different pairs never contend. A state removed from
 * the cache (evicted, expired, reset, cleaned up) is marked retired under its lock, and a check that
 * finds its state retired looks the pair up again, so no admission is ever counted in a dead state.
 *
 * <p>Flood resistance: when the size bound evicts a pair that is at its limit in some window, the pair
 * is parked in a small reserve (1/16 of {@code maximumKeys}, taken out of the bound, so the total stays
 * within it) and brought back on its next check. A client that invents keys to push its own exhausted
 * pair out of the cache therefore finds it again; to evict it from the reserve it would have to exhaust
 * thousands of other pairs first. Pairs below their limit can lose their counts under such a flood:
 * that is the price of bounded memory, and it cannot lift anyone above a limit they had reached.
 *
 * <p>A pair in active use is spared that as far as possible. Most of its requests are claimed without
 * the store, so the store is read once every {@value #TOUCH_EVERY} of them whatever the limit (every
 * {@value #TOUCH_EVERY_LATER} once the pair counts {@value #TOUCH_DENSE_BELOW}), which keeps its
 * frequency in the eviction policy close to what every request going through the store gave.
 * And a pair that the size bound evicts while busy (more than one request counted and touched in the
 * current finest bucket) goes to a second, smaller reserve ({@code busy}: a quarter of the reserve, so
 * the bound is unchanged) for one minute bucket, and is brought back from there like a parked one. The
 * busy reserve is separate so that pairs merely in use, which anyone can make cheaply, never compete
 * with exhausted pairs for a place in the parked one.
 *
 * <p>The hot path (an admitted, recorded check) reads the clock once for itself (the store's expiry
 * reads it too), allocates the lookup key and the result and nothing else, and divides nothing unless
 * time crossed a bucket boundary; see {@link WindowState} for the layout that keeps a pair small.
 */
public final class LocalRateLimiter implements RateLimiter {
  private static final LimitType[] CHECK_ORDER = LimitType.values();
  /** The most slots of the front table, a power of two. */
  private static final int FRONT_SLOTS = 1024;
  /**
   * A claim through the front table also reads the pair in the store once per this many requests
   * (when the binding window's count is a multiple of it: consecutive claims give consecutive counts),
   * whatever the limit, while that count is under {@value #TOUCH_DENSE_BELOW}; once per
   * {@value #TOUCH_EVERY_LATER} above. Powers of two. The read feeds the eviction policy's frequency
   * sketch: at once per 64 requests counted from the remaining room, so about once per epoch for limits
   * under 64, a busy pair looked rare to it (the sketch halves its counts every ~10 x maximumKeys
   * recorded accesses, every few milliseconds under a flood of invented keys) and was evicted under such
   * a flood far more often than when every request read the store. Above the threshold a pair is busy
   * enough to be seen often, a pair evicted while busy is kept in the busy reserve anyway, and the
   * reads cost the hottest pairs little: under wrk, JFR inside RateLimitFilter found 14 of 303 filter
   * samples in these reads at once per 64 (mostly the common-pool wake-up that drains the read
   * buffer), hence once per 1,024. The dense reads add at most 64 per 512 requests counted.
   */
  private static final int TOUCH_EVERY = 8;
  private static final int TOUCH_DENSE_BELOW = 512;
  private static final int TOUCH_EVERY_LATER = 1024;

  private final InstantSource clock;
  private final WindowState.Geometry geometry;
  /** Keys are the {@link WindowState}s themselves; lookups pass a {@link WindowKey} equal to one. */
  private final Cache<Object, WindowState> windows;
  /** Pairs at their limit that the size bound pushed out of {@link #windows}; see the class comment. */
  private final Cache<Object, WindowState> parked;
  /** Busy pairs below their limit that the size bound pushed out, briefly; see the class comment. */
  private final Cache<Object, WindowState> busy;
  /** Whether {@link #busy} has room for any pair at all (not under 64 keys). */
  private final boolean keepsBusy;
  /** Every store: {@link #windows} and the reserves. */
  private final List<Cache<Object, WindowState>> stores;
  private final Policy.VarExpiration<Object, WindowState> expiration;
  private final AtomicLong expiredEvictions = new AtomicLong();
  private final Map<String, RateLimitConfig> userConfigs = new ConcurrentHashMap<>();
  private final Map<String, RateLimitConfig> endpointConfigs = new ConcurrentHashMap<>();
  private volatile RateLimitConfig defaultConfig;
  /**
   * A direct-mapped table of pairs with an open epoch, by hash: a busy pair is admitted without a
   * store lookup. Plain, racy reads and writes: an entry is only a hint, verified by hash and name, and
   * a retired pair refuses claims. The store still sees every pair at each epoch opening (at least once
   * per finest bucket), which keeps its idle expiry correct (an epoch's requests belong to the bucket of
   * the pair's latest time, so they leave every window no later than one retention after that time,
   * and the expiry is measured from it when it is ahead of the clock), and once per
   * {@value #TOUCH_EVERY} (or {@value #TOUCH_EVERY_LATER}) claims, which keeps its eviction ranking
   * informed.
   *
   * <p>The table holds live pairs only: a pair's slot is cleared when it is retired (evicted, expired,
   * parked, reset or cleaned up), under the pair's lock, so that it cannot keep removed pairs (and their
   * names and arrays) reachable; and it has at most {@code maximumKeys} slots (rounded down to a power
   * of two), so that even its stale entries stay within the bound.
   */
  private final WindowState[] front;
  private final int[] frontHashes;
  private final int frontMask;

  /**
   * Use {@link RateLimiter#builder()}.
   *
   * @param defaultConfig the default config
   * @param clock the time source
   * @param maximumKeys the most pairs held
   * @param bucketCount buckets per window, a divisor of 1000
   */
  public LocalRateLimiter(RateLimitConfig defaultConfig, InstantSource clock, long maximumKeys, int bucketCount) {
    this.defaultConfig = Objects.requireNonNull(defaultConfig, "defaultConfig must not be null");
    this.clock = Objects.requireNonNull(clock, "clock must not be null");
    this.geometry = new WindowState.Geometry(bucketCount);
    int frontSlots = (int) Long.highestOneBit(Math.max(1, Math.min(maximumKeys, FRONT_SLOTS)));
    this.front = new WindowState[frontSlots];
    this.frontHashes = new int[frontSlots];
    this.frontMask = frontSlots - 1;
    long reserve = maximumKeys / 16;
    long busyReserve = reserve / 4;
    this.keepsBusy = busyReserve > 0;
    this.parked = Caffeine.newBuilder()
        .maximumSize(reserve - busyReserve)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new IdleExpiry())
        .build();
    this.busy = Caffeine.newBuilder()
        .maximumSize(busyReserve)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfterWrite(Duration.ofMillis(geometry.minuteMillis))
        .build();
    this.windows = Caffeine.newBuilder()
        .maximumSize(maximumKeys - reserve)
        // Maintenance stays on the common pool (the default). Running it on the caller (executor
        // Runnable::run) saved the pool wake-ups on a busy pair, but the front table now spares busy
        // pairs most store reads, and on many keys the callers paid for the whole drain: random keys
        // 0.46-0.87 op/us inline against 0.75-1.55 on the pool, in the same runs.
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new IdleExpiry())
        .evictionListener(this::onEviction)
        .build();
    this.expiration = windows.policy().expireVariably().orElseThrow();
    this.stores = List.of(windows, parked, busy);
  }

  /**
   * Runs inside the cache's eviction, under its lock for the key: retires the state, and, if the size
   * bound evicted it, parks it when it is at its limit or keeps it in the busy reserve when it is in
   * use (see the class comment). A check for the pair meanwhile waits for the lock for the key, so it
   * finds the pair in a reserve.
   */
  private void onEviction(Object key, WindowState state, RemovalCause cause) {
    if (state == null) {
      return;
    }
    if (cause == RemovalCause.EXPIRED) {
      expiredEvictions.incrementAndGet();
    }
    Cache<Object, WindowState> reserve = null;
    synchronized (state) {
      long now = clock.millis();
      boolean recent = state.touchedInBucketOf(now);
      retire(state);
      if (cause == RemovalCause.SIZE) {
        RateLimitConfig config = getConfig(state.user(), state.endpoint());
        if (state.isAtLimit(now, config, geometry)) {
          reserve = parked;
        } else if (keepsBusy && recent && state.countsMoreThanOne(config)) {
          reserve = busy;
        }
      }
    }
    if (reserve != null) {
      reserve.put(state, state);
    }
  }

  /**
   * Marks the pair removed from the store (see {@link WindowState#retire}) and clears its front table
   * slot if it still holds it. Must hold the pair's monitor: a check fills the slot under it, and only
   * for a pair it found not retired.
   */
  private void retire(WindowState state) {
    state.retire(geometry);
    int slot = frontSlot(state.hashCode());
    if (front[slot] == state) {
      front[slot] = null;
    }
  }

  private int frontSlot(int hash) {
    return (hash ^ (hash >>> 16)) & frontMask;
  }

  /**
   * The pair's state for a new admission: the live one, one brought back from a reserve, or a fresh
   * one.
   * A new entry's key is a state of the pair (the fresh one), so that the store never holds the
   * caller's strings.
   */
  private WindowState stateFor(WindowKey key, RateLimitConfig config) {
    WindowState state = windows.getIfPresent(key);
    if (state != null) {
      return state;
    }
    WindowState fresh = new WindowState(key.user, key.endpoint, key.hashCode(), retainMillis(config));
    return windows.asMap().computeIfAbsent(fresh, k -> {
      WindowState back = parked.asMap().remove(k);
      if (back == null) {
        back = busy.asMap().remove(k);
      }
      if (back == null) {
        return fresh;
      }
      synchronized (back) {
        back.restore();
      }
      return back;
    });
  }

  /** The pair's state for reading, live or in a reserve, or null; creates nothing. */
  private WindowState peek(WindowKey key) {
    WindowState state = windows.getIfPresent(key);
    if (state == null) {
      state = parked.getIfPresent(key);
    }
    return state != null ? state : busy.getIfPresent(key);
  }

  /**
   * Keeps a pair for its longest enabled window plus one bucket after its last use, measured from the
   * pair's own time when that is ahead of the clock (the clock stepped back: the pair keeps counting
   * at its latest time, and so must be kept until those counts are gone, even if only claims through
   * the front table, which do not touch the store, use it meanwhile).
   */
  private static final class IdleExpiry implements Expiry<Object, WindowState> {
    @Override
    public long expireAfterCreate(Object key, WindowState state, long currentTime) {
      return retainNanos(state, currentTime);
    }

    @Override
    public long expireAfterUpdate(Object key, WindowState state, long currentTime, long currentDuration) {
      return retainNanos(state, currentTime);
    }

    @Override
    public long expireAfterRead(Object key, WindowState state, long currentTime, long currentDuration) {
      return retainNanos(state, currentTime);
    }

    private static long retainNanos(WindowState state, long currentTime) {
      return TimeUnit.MILLISECONDS.toNanos(state.retainFrom(TimeUnit.NANOSECONDS.toMillis(currentTime)));
    }
  }

  /** The longest enabled window plus one bucket; a config enabling none keeps minute history briefly. */
  private int retainMillis(RateLimitConfig config) {
    LimitType longest;
    if (config.requestsPerDay() > 0) {
      longest = LimitType.DAY;
    } else if (config.requestsPerHour() > 0) {
      longest = LimitType.HOUR;
    } else if (config.requestsPerMinute() > 0) {
      longest = LimitType.MINUTE;
    } else if (config.burstSize() > 0) {
      longest = LimitType.BURST;
    } else {
      longest = LimitType.MINUTE;
    }
    return (int) (longest.windowMillis() + geometry.bucketMillis(longest));
  }

  @Override
  public void setDefaultConfig(RateLimitConfig config) {
    defaultConfig = Objects.requireNonNull(config, "config must not be null");
  }

  @Override
  public void setUserLimits(String userId, RateLimitConfig config) {
    Objects.requireNonNull(userId, "userId must not be null");
    userConfigs.put(userId, Objects.requireNonNull(config, "config must not be null"));
  }

  @Override
  public void setEndpointLimits(String endpoint, RateLimitConfig config) {
    Objects.requireNonNull(endpoint, "endpoint must not be null");
    endpointConfigs.put(endpoint, Objects.requireNonNull(config, "config must not be null"));
  }

  @Override
  public RateLimitConfig getConfig(String userId) {
    Objects.requireNonNull(userId, "userId must not be null");
    RateLimitConfig user = userConfigs.get(userId);
    return user != null ? user : defaultConfig;
  }

  @Override
  public RateLimitConfig getConfig(String userId, String endpoint) {
    Objects.requireNonNull(endpoint, "endpoint must not be null");
    RateLimitConfig forEndpoint = endpointConfigs.get(endpoint);
    return forEndpoint != null ? forEndpoint : getConfig(userId);
  }

  @Override
  public RateLimitResult checkRateLimit(String userId, String endpoint, boolean record) {
    return check(userId, endpoint, record, null);
  }

  @Override
  public RateLimitDecision decide(String userId, String endpoint, boolean record) {
    WindowState.Binding binding = new WindowState.Binding();
    RateLimitResult result = check(userId, endpoint, record, binding);
    return new RateLimitDecision(result, binding.config, binding.window, binding.resetSeconds);
  }

  /**
   * The one check; {@code binding} is null when only the result is wanted (no reset times to find).
   * A recorded check first tries to claim a request of the pair's open epoch (see {@link WindowState}),
   * through the front table or after a store lookup, and takes the pair's lock only when that fails.
   */
  private RateLimitResult check(String userId, String endpoint, boolean record, WindowState.Binding binding) {
    RateLimitConfig config = getConfig(userId, endpoint);
    if (binding != null) {
      binding.config = config;
    }
    int hash = WindowKey.hash(userId, endpoint);
    long now = clock.millis();
    int slot = frontSlot(hash);
    if (record && frontHashes[slot] == hash) {
      WindowState state = front[slot];
      if (state != null && state.hashCode() == hash && state.matches(userId, endpoint)) {
        RateLimitResult claimed = state.tryClaim(config, now, binding);
        if (claimed != null) {
          long current = claimed.current();
          if ((current & (current < TOUCH_DENSE_BELOW ? TOUCH_EVERY - 1 : TOUCH_EVERY_LATER - 1)) == 0) {
            windows.getIfPresent(state);
          }
          return claimed;
        }
      }
    }
    WindowKey key = new WindowKey(userId, endpoint, hash);
    if (!record) {
      WindowState state = peek(key);
      if (state == null) {
        return freshDryRun(config, binding);
      }
      synchronized (state) {
        state.settle(geometry);
        return evaluate(state, config, now, false, binding);
      }
    }
    while (true) {
      WindowState state = windows.getIfPresent(key);
      if (state == null) {
        state = stateFor(key, config);
      } else {
        RateLimitResult claimed = state.tryClaim(config, now, binding);
        if (claimed != null) {
          return claimed;
        }
      }
      boolean extend = false;
      RateLimitResult result;
      synchronized (state) {
        if (state.isRetired()) {
          continue;
        }
        state.settle(geometry);
        result = evaluate(state, config, now, true, binding);
        if (result.allowed() && state.openEpoch(config, geometry)) {
          frontHashes[slot] = hash;
          front[slot] = state;
        }
        if (result.allowed()) {
          int retain = retainMillis(config);
          if (retain > state.retainMillis) {
            state.retainMillis = retain;
            extend = true;
          }
        }
      }
      if (extend) {
        expiration.setExpiresAfter(state, Duration.ofMillis(state.retainFrom(now)));
      }
      return result;
    }
  }

  private static RateLimitResult freshDryRun(RateLimitConfig config, WindowState.Binding binding) {
    long remaining = Long.MAX_VALUE;
    long limit = 0;
    LimitType window = null;
    for (LimitType type : CHECK_ORDER) {
      int l = config.limitFor(type);
      if (l > 0 && l < remaining) {
        remaining = l;
        limit = l;
        window = type;
      }
    }
    if (binding != null) {
      binding.window = window;
    }
    return RateLimitResult.allowed(0, limit, remaining);
  }

  /** Checks every enabled window at one instant and, if all have room and {@code record}, counts. */
  private RateLimitResult evaluate(WindowState state, RateLimitConfig config, long now, boolean record,
      WindowState.Binding binding) {
    int burstLimit = config.burstSize();
    int minuteLimit = config.requestsPerMinute();
    int hourLimit = config.requestsPerHour();
    int dayLimit = config.requestsPerDay();
    state.advance(now, geometry);
    if ((burstLimit > 0 && state.burstCount() >= burstLimit)
        || (minuteLimit > 0 && state.minuteCount() >= minuteLimit)
        || (hourLimit > 0 && state.hourCount() >= hourLimit)
        || (dayLimit > 0 && state.dayCount() >= dayLimit)) {
      return reject(state, config, now, binding);
    }
    if (record) {
      state.record(1, config, geometry);
    }
    // The enabled window with the least room after this request; the first in check order on a tie.
    long remaining = Long.MAX_VALUE;
    long current = 0;
    long limitOfBinding = 0;
    LimitType window = null;
    if (burstLimit > 0) {
      int count = state.burstCount();
      remaining = Math.max(0, burstLimit - count);
      current = count;
      limitOfBinding = burstLimit;
      window = LimitType.BURST;
    }
    if (minuteLimit > 0) {
      int count = state.minuteCount();
      long room = Math.max(0, minuteLimit - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        limitOfBinding = minuteLimit;
        window = LimitType.MINUTE;
      }
    }
    if (hourLimit > 0) {
      int count = state.hourCount();
      long room = Math.max(0, hourLimit - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        limitOfBinding = hourLimit;
        window = LimitType.HOUR;
      }
    }
    if (dayLimit > 0) {
      int count = state.dayCount();
      long room = Math.max(0, dayLimit - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        limitOfBinding = dayLimit;
        window = LimitType.DAY;
      }
    }
    if (binding != null) {
      binding.window = window;
      binding.resetSeconds = window == null ? 0 : ceilSeconds(state.millisUntilReset(window, now, geometry));
    }
    return RateLimitResult.allowed(current, limitOfBinding, remaining);
  }

  /** The refusal: the refusing window whose slot frees last names the result. */
  private RateLimitResult reject(WindowState state, RateLimitConfig config, long now, WindowState.Binding binding) {
    LimitType refusing = null;
    long refusingWait = -1;
    long refusingCount = 0;
    long refusingLimit = 0;
    for (LimitType type : CHECK_ORDER) {
      int limit = config.limitFor(type);
      if (limit <= 0) {
        continue;
      }
      int count = state.count(type);
      if (count >= limit) {
        long wait = state.millisUntilSlot(type, limit, now, geometry);
        if (wait > refusingWait) {
          refusing = type;
          refusingWait = wait;
          refusingCount = count;
          refusingLimit = limit;
        }
      }
    }
    if (binding != null) {
      binding.window = refusing;
      binding.resetSeconds = Math.max(1, ceilSeconds(refusingWait));
    }
    return RateLimitResult.rejected(refusing, refusingCount, refusingLimit, refusingWait / 1000.0);
  }

  private static int enabledWindows(RateLimitConfig config) {
    int n = 0;
    for (LimitType type : CHECK_ORDER) {
      if (config.limitFor(type) > 0) {
        n++;
      }
    }
    return n;
  }

  private static long ceilSeconds(long millis) {
    return WindowState.ceilSeconds(millis);
  }

  @Override
  public Map<LimitType, WindowUsage> getUsage(String userId, String endpoint) {
    RateLimitConfig config = getConfig(userId, endpoint);
    long now = clock.millis();
    WindowState state = peek(new WindowKey(userId, endpoint));
    Map<LimitType, WindowUsage> usage = new EnumMap<>(LimitType.class);
    for (LimitType type : CHECK_ORDER) {
      if (type == LimitType.BURST && config.burstSize() == 0) {
        continue;
      }
      long limit = config.limitFor(type);
      long current = 0;
      long reset = 0;
      if (state != null) {
        synchronized (state) {
          state.settle(geometry);
          state.advance(now, geometry);
          current = state.count(type);
          reset = ceilSeconds(state.millisUntilReset(type, now, geometry));
        }
      }
      usage.put(type, new WindowUsage(current, limit, Math.max(0, limit - current), reset));
    }
    return Collections.unmodifiableMap(usage);
  }

  @Override
  public int resetUser(String userId) {
    Objects.requireNonNull(userId, "userId must not be null");
    int cleared = 0;
    for (Cache<Object, WindowState> store : stores) {
      List<WindowState> keys = new ArrayList<>();
      for (Object key : store.asMap().keySet()) {
        if (((WindowState) key).isUser(userId)) {
          keys.add((WindowState) key);
        }
      }
      for (WindowState key : keys) {
        if (store.asMap().computeIfPresent(key, (k, state) -> {
          synchronized (state) {
            retire(state);
          }
          return null;
        }) == null && store == windows) {
          cleared += enabledWindows(getConfig(userId, key.endpoint()));
        }
      }
    }
    return cleared;
  }

  @Override
  public int cleanupExpired() {
    long now = clock.millis();
    long expiredBefore = expiredEvictions.get();
    // Pairs past their expiry time are dropped (and counted by the eviction listener) first.
    windows.cleanUp();
    int removed = 0;
    for (Cache<Object, WindowState> store : stores) {
      int[] quiet = {0};
      for (Object key : new ArrayList<>(store.asMap().keySet())) {
        store.asMap().computeIfPresent(key, (k, state) -> {
          synchronized (state) {
            if (!state.isQuiet(now, getConfig(state.user(), state.endpoint()), geometry)) {
              return state;
            }
            retire(state);
            quiet[0]++;
            return null;
          }
        });
      }
      removed += quiet[0];
      store.cleanUp();
    }
    return removed + (int) Math.min(Integer.MAX_VALUE, expiredEvictions.get() - expiredBefore);
  }

  @Override
  public List<RateLimitKey> keys(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max must be >= 0 but was " + max);
    }
    List<RateLimitKey> keys = new ArrayList<>(Math.min(max, 1024));
    for (Cache<Object, WindowState> store : stores) {
      for (Object key : store.asMap().keySet()) {
        if (keys.size() >= max) {
          return Collections.unmodifiableList(keys);
        }
        WindowState state = (WindowState) key;
        keys.add(new RateLimitKey(state.user(), state.endpoint()));
      }
    }
    return Collections.unmodifiableList(keys);
  }

  @Override
  public long trackedKeys() {
    return windows.estimatedSize() + parked.estimatedSize() + busy.estimatedSize();
  }

  @Override
  public void cleanUp() {
    for (Cache<Object, WindowState> store : stores) {
      store.cleanUp();
    }
  }
}
