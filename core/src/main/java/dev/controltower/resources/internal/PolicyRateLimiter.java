package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.WindowUsage;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link RateLimiter}: the policy above a {@link WindowStore}. It owns the configs (endpoint &gt;
 * user &gt; default), each compiled once into a {@link WindowPlan} kept beside it, reads the clock once
 * per call, and turns the store's {@link Outcome} into results and decisions. Counting is the store's.
 *
 * <p>Thread-safe: the registries are concurrent maps and a volatile default; the store is thread-safe.
 */
public final class PolicyRateLimiter implements RateLimiter {
  private static final LimitType[] REQUEST_WINDOWS = {LimitType.BURST, LimitType.MINUTE, LimitType.HOUR, LimitType.DAY};

  /** A config and its plan, compiled once when the config is set. */
  private record Compiled(RateLimitConfig config, WindowPlan plan) {}

  private final WindowStore store;
  private final InstantSource clock;
  private final int bucketCount;
  private final Map<String, Compiled> userConfigs = new ConcurrentHashMap<>();
  private final Map<String, Compiled> endpointConfigs = new ConcurrentHashMap<>();
  private volatile Compiled defaultConfig;

  /**
   * Use {@link RateLimiter#builder()}.
   *
   * @param store where the windows are counted
   * @param clock the time passed to the store
   * @param defaultConfig the default config
   * @param bucketCount buckets per window, a divisor of 1000
   */
  public PolicyRateLimiter(WindowStore store, InstantSource clock, RateLimitConfig defaultConfig, int bucketCount) {
    this.store = Checks.notNull("store", store);
    this.clock = Checks.notNull("clock", clock);
    this.bucketCount = bucketCount;
    this.defaultConfig = compile(Checks.notNull("defaultConfig", defaultConfig));
  }

  private Compiled compile(RateLimitConfig config) {
    return new Compiled(config, WindowPlan.of(config, bucketCount));
  }

  /** The store underneath. */
  public WindowStore store() {
    return store;
  }

  @Override
  public void setDefaultConfig(RateLimitConfig config) {
    defaultConfig = compile(Checks.notNull("config", config));
  }

  @Override
  public void setUserLimits(String userId, RateLimitConfig config) {
    Checks.notNull("userId", userId);
    userConfigs.put(userId, compile(Checks.notNull("config", config)));
  }

  @Override
  public void setEndpointLimits(String endpoint, RateLimitConfig config) {
    Checks.notNull("endpoint", endpoint);
    endpointConfigs.put(endpoint, compile(Checks.notNull("config", config)));
  }

  private Compiled compiledFor(String userId) {
    Checks.notNull("userId", userId);
    Compiled user = userConfigs.get(userId);
    return user != null ? user : defaultConfig;
  }

  private Compiled compiledFor(String userId, String endpoint) {
    Checks.notNull("endpoint", endpoint);
    Compiled forEndpoint = endpointConfigs.get(endpoint);
    if (forEndpoint != null) {
      Checks.notNull("userId", userId);
      return forEndpoint;
    }
    return compiledFor(userId);
  }

  private WindowPlan planFor(String userId, String endpoint) {
    return compiledFor(userId, endpoint).plan();
  }

  @Override
  public RateLimitConfig getConfig(String userId) {
    return compiledFor(userId).config();
  }

  @Override
  public RateLimitConfig getConfig(String userId, String endpoint) {
    return compiledFor(userId, endpoint).config();
  }

  @Override
  public RateLimitResult checkRateLimit(String userId, String endpoint, boolean record) {
    WindowPlan plan = planFor(userId, endpoint);
    return result(outcome(userId, endpoint, plan, 1, record), plan, 1);
  }

  @Override
  public RateLimitResult checkRateLimit(String userId, String endpoint, long cost) {
    Checks.positive("cost", cost);
    WindowPlan plan = planFor(userId, endpoint);
    return result(outcome(userId, endpoint, plan, cost, true), plan, cost);
  }

  @Override
  public RateLimitDecision decide(String userId, String endpoint, boolean record) {
    return decide(userId, endpoint, 1, record);
  }

  @Override
  public RateLimitDecision decide(String userId, String endpoint, long cost, boolean record) {
    Checks.positive("cost", cost);
    Compiled compiled = compiledFor(userId, endpoint);
    WindowPlan plan = compiled.plan();
    Outcome outcome = outcome(userId, endpoint, plan, cost, record);
    if (outcome.admitted()) {
      int tightest = outcome.tightest();
      return new RateLimitDecision(admitted(outcome, plan), compiled.config(),
          tightest < 0 ? null : plan.type(tightest), WindowMath.ceilSeconds(outcome.resetMillis()), List.of());
    }
    int naming = naming(outcome);
    RateLimitResult result = refused(outcome, plan, cost, naming);
    List<LimitType> violated = new ArrayList<>(plan.size());
    for (int i = 0; i < plan.size(); i++) {
      if (outcome.waitMillis(i) != Outcome.ROOM) {
        violated.add(plan.type(i));
      }
    }
    long wait = outcome.waitMillis(naming);
    long resetSeconds = wait == Outcome.NEVER ? 0 : Math.max(1, WindowMath.ceilSeconds(wait));
    return new RateLimitDecision(result, compiled.config(), result.limitType(), resetSeconds,
        Collections.unmodifiableList(violated));
  }

  private Outcome outcome(String userId, String endpoint, WindowPlan plan, long cost, boolean record) {
    Checks.notNull("userId", userId);
    if (plan.isEmpty()) {
      return Outcome.admitted(-1, 0, Long.MAX_VALUE, 0); // nothing to count, nothing to store
    }
    long now = clock.millis();
    return record ? store.acquire(userId, endpoint, plan, cost, now) : store.check(userId, endpoint, plan, cost, now);
  }

  /** The refusing window whose wait is longest (the first in plan order on a tie): it names a refusal. */
  private static int naming(Outcome outcome) {
    int naming = -1;
    long longest = Long.MIN_VALUE;
    for (int i = 0; i < outcome.windows(); i++) {
      long wait = outcome.waitMillis(i);
      if (wait != Outcome.ROOM && wait > longest) {
        longest = wait;
        naming = i;
      }
    }
    return naming;
  }

  private static RateLimitResult result(Outcome outcome, WindowPlan plan, long cost) {
    return outcome.admitted() ? admitted(outcome, plan) : refused(outcome, plan, cost, naming(outcome));
  }

  private static RateLimitResult admitted(Outcome outcome, WindowPlan plan) {
    int tightest = outcome.tightest();
    return tightest < 0
        ? RateLimitResult.allowed(0, 0, Long.MAX_VALUE)
        : RateLimitResult.allowed(outcome.tightestCount(), plan.limit(tightest), outcome.remaining());
  }

  /** The refusal, named by window {@code naming} (see {@link #naming}). */
  private static RateLimitResult refused(Outcome outcome, WindowPlan plan, long cost, int naming) {
    LimitType type = plan.type(naming);
    long count = outcome.count(naming);
    long limit = plan.limit(naming);
    long wait = outcome.waitMillis(naming);
    if (wait == Outcome.NEVER) {
      return new RateLimitResult(false, type, count, limit, 0, Double.POSITIVE_INFINITY,
          "cost " + cost + " exceeds the " + type.wireName() + " limit " + limit + " and can never be admitted");
    }
    return cost == 1
        ? RateLimitResult.rejected(type, count, limit, wait / 1000.0)
        : new RateLimitResult(false, type, count, limit, 0, wait / 1000.0, "Rate limit exceeded: " + count + "/"
            + limit + " requests per " + type.wireName() + ", and this request costs " + cost);
  }

  @Override
  public Map<LimitType, WindowUsage> getUsage(String userId, String endpoint) {
    Compiled compiled = compiledFor(userId, endpoint);
    WindowPlan plan = compiled.plan();
    WindowReading reading = plan.isEmpty()
        ? WindowReading.empty(plan)
        : store.read(userId, endpoint, plan, clock.millis());
    Map<LimitType, WindowUsage> usage = new EnumMap<>(LimitType.class);
    for (LimitType type : REQUEST_WINDOWS) {
      if (type == LimitType.BURST && compiled.config().burstSize() == 0) {
        continue;
      }
      int i = plan.indexOf(type);
      if (i < 0) {
        usage.put(type, new WindowUsage(0, 0, 0, 0));
      } else {
        long current = reading.counts()[i];
        long limit = plan.limit(i);
        usage.put(type, new WindowUsage(current, limit, Math.max(0, limit - current),
            WindowMath.ceilSeconds(reading.resetMillis()[i])));
      }
    }
    return Collections.unmodifiableMap(usage);
  }

  @Override
  public int resetUser(String userId) {
    Checks.notNull("userId", userId);
    int cleared = 0;
    for (String endpoint : store.resetUser(userId)) {
      cleared += planFor(userId, endpoint).size();
    }
    return cleared;
  }

  @Override
  public int cleanupExpired() {
    return store.removeExpired(this::planFor, clock.millis());
  }

  @Override
  public List<RateLimitKey> keys(int max) {
    Checks.nonNegative("max", max);
    return store.keys(max);
  }

  @Override
  public long trackedKeys() {
    return store.size();
  }

  @Override
  public void cleanUp() {
    store.cleanUp();
  }

  @Override
  public String toString() {
    return "RateLimiter[default=" + defaultConfig.config() + ", store=" + store.getClass().getSimpleName() + "]";
  }
}
