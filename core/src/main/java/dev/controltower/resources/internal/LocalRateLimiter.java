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

/**
 * The in-process {@link RateLimiter}: window state per (user, endpoint) pair in a Caffeine cache,
 * bounded by size and expiring once idle. The counting algorithm is explained in {@link WindowState}.
 *
 * <p>Atomicity: the cache hands out one {@link WindowState} per pair; a check locks that state, so
 * checks on one pair are serialized and checks on different pairs never contend. A state removed from
 * the cache (evicted, expired, reset, cleaned up) is marked retired under its lock, and a check that
 * finds its state retired looks the pair up again, so no admission is ever counted in a dead state.
 */
public final class LocalRateLimiter implements RateLimiter {
  private static final LimitType[] CHECK_ORDER = LimitType.values();

  private final InstantSource clock;
  private final WindowState.Geometry geometry;
  private final Cache<WindowKey, WindowState> windows;
  private final Policy.VarExpiration<WindowKey, WindowState> expiration;
  private final Map<String, RateLimitConfig> userConfigs = new ConcurrentHashMap<>();
  private final Map<String, RateLimitConfig> endpointConfigs = new ConcurrentHashMap<>();
  private volatile RateLimitConfig defaultConfig;

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
    this.windows = Caffeine.newBuilder()
        .maximumSize(maximumKeys)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new IdleExpiry())
        .evictionListener((WindowKey key, WindowState state, RemovalCause cause) -> {
          if (state != null) {
            synchronized (state) {
              state.retired = true;
            }
          }
        })
        .build();
    this.expiration = windows.policy().expireVariably().orElseThrow();
  }

  /** Keeps a pair for its longest enabled window plus one bucket after its last use. */
  private static final class IdleExpiry implements Expiry<WindowKey, WindowState> {
    @Override
    public long expireAfterCreate(WindowKey key, WindowState state, long currentTime) {
      return TimeUnit.MILLISECONDS.toNanos(state.retainMillis);
    }

    @Override
    public long expireAfterUpdate(WindowKey key, WindowState state, long currentTime, long currentDuration) {
      return TimeUnit.MILLISECONDS.toNanos(state.retainMillis);
    }

    @Override
    public long expireAfterRead(WindowKey key, WindowState state, long currentTime, long currentDuration) {
      return TimeUnit.MILLISECONDS.toNanos(state.retainMillis);
    }
  }

  private long retainMillis(RateLimitConfig config) {
    long retain = 0;
    for (LimitType type : CHECK_ORDER) {
      if (config.limitFor(type) > 0) {
        retain = type.windowMillis() + geometry.bucketMillis(type);
      }
    }
    // A pair whose config enables no window still holds its minute/hour/day history briefly.
    return retain == 0 ? LimitType.MINUTE.windowMillis() + geometry.bucketMillis(LimitType.MINUTE) : retain;
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
    return check(userId, endpoint, record, false).result();
  }

  @Override
  public RateLimitDecision decide(String userId, String endpoint, boolean record) {
    return check(userId, endpoint, record, true);
  }

  /**
   * The one check. With {@code full} false only the result is meaningful (the decision's other
   * fields are left empty), which saves the hot path the work of finding reset times.
   */
  private RateLimitDecision check(String userId, String endpoint, boolean record, boolean full) {
    RateLimitConfig config = getConfig(userId, endpoint);
    WindowKey key = new WindowKey(userId, endpoint);
    long now = clock.millis();
    if (!record) {
      WindowState state = windows.getIfPresent(key);
      if (state == null) {
        return freshDryRun(config);
      }
      synchronized (state) {
        return evaluate(state, config, now, false, full);
      }
    }
    while (true) {
      WindowState state = windows.getIfPresent(key);
      if (state == null) {
        long retain = retainMillis(config);
        state = windows.get(key, k -> new WindowState(geometry, retain));
      }
      long extendTo = 0;
      RateLimitDecision decision;
      synchronized (state) {
        if (state.retired) {
          continue;
        }
        decision = evaluate(state, config, now, true, full);
        if (decision.allowed()) {
          long retain = retainMillis(config);
          if (retain > state.retainMillis) {
            state.retainMillis = retain;
            extendTo = retain;
          }
        }
      }
      if (extendTo > 0) {
        expiration.setExpiresAfter(key, Duration.ofMillis(extendTo));
      }
      return decision;
    }
  }

  private static RateLimitDecision freshDryRun(RateLimitConfig config) {
    long remaining = Long.MAX_VALUE;
    long limit = 0;
    LimitType binding = null;
    for (LimitType type : CHECK_ORDER) {
      int l = config.limitFor(type);
      if (l > 0 && l < remaining) {
        remaining = l;
        limit = l;
        binding = type;
      }
    }
    return new RateLimitDecision(RateLimitResult.allowed(0, limit, remaining), config, binding, 0);
  }

  /** Checks every enabled window at one instant and, if all have room and {@code record}, counts. */
  private RateLimitDecision evaluate(WindowState state, RateLimitConfig config, long now, boolean record,
      boolean full) {
    if (config.burstSize() > 0 && record) {
      state.enableBurst();
    }
    state.advance(now);
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
        long wait = state.millisUntilSlot(type, limit, now);
        if (wait > refusingWait) {
          refusing = type;
          refusingWait = wait;
          refusingCount = count;
          refusingLimit = limit;
        }
      }
    }
    if (refusing != null) {
      RateLimitResult result = RateLimitResult.rejected(refusing, refusingCount, refusingLimit, refusingWait / 1000.0);
      return new RateLimitDecision(result, config, refusing, Math.max(1, ceilSeconds(refusingWait)));
    }
    if (record) {
      state.record();
    }
    long remaining = Long.MAX_VALUE;
    long current = 0;
    long limitOfBinding = 0;
    LimitType binding = null;
    for (LimitType type : CHECK_ORDER) {
      int limit = config.limitFor(type);
      if (limit <= 0) {
        continue;
      }
      int count = state.count(type);
      long room = Math.max(0, limit - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        limitOfBinding = limit;
        binding = type;
      }
    }
    RateLimitResult result = RateLimitResult.allowed(current, limitOfBinding, remaining);
    long reset = full && binding != null ? ceilSeconds(state.millisUntilReset(binding, now)) : 0;
    return new RateLimitDecision(result, config, binding, reset);
  }

  private static long ceilSeconds(long millis) {
    return (millis + 999) / 1000;
  }

  @Override
  public Map<LimitType, WindowUsage> getUsage(String userId, String endpoint) {
    RateLimitConfig config = getConfig(userId, endpoint);
    long now = clock.millis();
    WindowState state = windows.getIfPresent(new WindowKey(userId, endpoint));
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
          state.advance(now);
          current = state.count(type);
          reset = ceilSeconds(state.millisUntilReset(type, now));
        }
      }
      usage.put(type, new WindowUsage(current, limit, Math.max(0, limit - current), reset));
    }
    return Collections.unmodifiableMap(usage);
  }

  @Override
  public int resetUser(String userId) {
    Objects.requireNonNull(userId, "userId must not be null");
    List<WindowKey> keys = new ArrayList<>();
    for (WindowKey key : windows.asMap().keySet()) {
      if (key.user.equals(userId)) {
        keys.add(key);
      }
    }
    int[] cleared = {0};
    for (WindowKey key : keys) {
      windows.asMap().computeIfPresent(key, (k, state) -> {
        synchronized (state) {
          state.retired = true;
          cleared[0] += state.windowCount();
        }
        return null;
      });
    }
    return cleared[0];
  }

  @Override
  public int cleanupExpired() {
    long now = clock.millis();
    int[] removed = {0};
    for (WindowKey key : new ArrayList<>(windows.asMap().keySet())) {
      windows.asMap().computeIfPresent(key, (k, state) -> {
        synchronized (state) {
          if (!state.isQuiet(now, getConfig(k.user, k.endpoint))) {
            return state;
          }
          state.retired = true;
          removed[0]++;
          return null;
        }
      });
    }
    windows.cleanUp();
    return removed[0];
  }

  @Override
  public List<RateLimitKey> keys(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max must be >= 0 but was " + max);
    }
    List<RateLimitKey> keys = new ArrayList<>(Math.min(max, 1024));
    for (WindowKey key : windows.asMap().keySet()) {
      if (keys.size() >= max) {
        break;
      }
      keys.add(new RateLimitKey(key.user, key.endpoint));
    }
    return Collections.unmodifiableList(keys);
  }

  @Override
  public long trackedKeys() {
    return windows.estimatedSize();
  }

  @Override
  public void cleanUp() {
    windows.cleanUp();
  }
}
