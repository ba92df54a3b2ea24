package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;
import dev.controltower.resources.internal.MemoryWindowStore;
import dev.controltower.resources.internal.PolicyRateLimiter;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.WindowStore;
import java.time.InstantSource;
import java.util.Map;

/**
 * Sliding-window rate limits per (user, endpoint) pair: every request is checked against a minute, an
 * hour and a day window (and an optional one-second burst window), and is admitted only if every
 * enabled window has room.
 *
 * <p><b>Thread safety.</b> Every method may be called from any number of threads. Admission and
 * recording are one atomic step per (user, endpoint) pair, so a window never admits more than its
 * limit, and a rejected request records nothing. Configuration may change while traffic flows; a new
 * config applies from the next check.
 *
 * <p><b>Which config applies.</b> An endpoint's config, if one is set for it, else the user's, else the
 * default ({@link RateLimitConfig#defaults()} unless set). An endpoint config replaces the user config
 * whole. Counting is always per (user, endpoint) pair.
 *
 * <p><b>Example.</b>
 * <pre>{@code
 * RateLimiter limiter = RateLimiter.create();
 * limiter.setUserLimits("user-1", RateLimitConfig.builder().requestsPerMinute(60).build());
 * RateLimitResult r = limiter.checkRateLimit("user-1", "/api/analyze");
 * if (r.exceeded()) {
 *   // answer 429 with Retry-After: ceil(r.retryAfterSeconds())
 * }
 * }</pre>
 *
 * <p><b>Memory.</b> Window state lives in a bounded cache ({@link Builder#maximumKeys(long)}, one
 * million pairs by default), and a pair that stays idle disappears once its windows count nothing, so
 * memory stays bounded whatever keys clients invent. When the bound is reached, the least valuable
 * pairs (by recent frequency of use) are dropped first, except that a pair at its limit is set aside in
 * a small reserve within the bound and restored on its next check, so that inventing keys never resets
 * a client's own exhausted window; a pair in active use below its limit is likewise kept for a moment
 * in a second, smaller reserve, so that such a flood rarely costs it its counts.
 *
 * <p><b>Stores.</b> The counting lives in a {@link WindowStore} ({@link Builder#store}); without one,
 * in memory, in this process. A shared store (Redis) gives several processes one set of limits, with
 * the same answers, value for value.
 *
 * <p><b>The surprising property.</b> A window of length W cut into buckets (10 by default) counts a
 * request until W after the latest admission of its bucket: exactly W for a request alone in its
 * bucket, at most one bucket longer otherwise. A limit holds over <em>any</em> interval of length W,
 * and a client that paces itself at the advertised rate (with a limit no larger than the bucket count)
 * is never refused.
 */
public interface RateLimiter {

  /** The endpoint used when none is given. */
  String DEFAULT_ENDPOINT = "default";

  /** A limiter with {@link RateLimitConfig#defaults()} and the system clock. */
  static RateLimiter create() {
    return builder().build();
  }

  /**
   * A limiter with the given default config and the system clock.
   *
   * @throws NullPointerException if {@code defaultConfig} is null
   */
  static RateLimiter create(RateLimitConfig defaultConfig) {
    return builder().defaultConfig(defaultConfig).build();
  }

  /** A builder for a limiter with non-default settings. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Sets the config used for users and endpoints without one of their own.
   *
   * @throws NullPointerException if {@code config} is null
   */
  void setDefaultConfig(RateLimitConfig config);

  /**
   * Sets the config of one user, for every endpoint that has no config of its own.
   *
   * @throws NullPointerException if an argument is null
   */
  void setUserLimits(String userId, RateLimitConfig config);

  /**
   * Sets the config of one endpoint, for every user; it overrides user configs.
   *
   * @throws NullPointerException if an argument is null
   */
  void setEndpointLimits(String endpoint, RateLimitConfig config);

  /** The user's config, or the default. */
  RateLimitConfig getConfig(String userId);

  /** The effective config for the pair: endpoint, else user, else default. */
  RateLimitConfig getConfig(String userId, String endpoint);

  /** {@link #checkRateLimit(String, String, boolean)} on the {@value #DEFAULT_ENDPOINT} endpoint, recording. */
  default RateLimitResult checkRateLimit(String userId) {
    return checkRateLimit(userId, DEFAULT_ENDPOINT, true);
  }

  /** {@link #checkRateLimit(String, String, boolean)}, recording. */
  default RateLimitResult checkRateLimit(String userId, String endpoint) {
    return checkRateLimit(userId, endpoint, true);
  }

  /**
   * Checks one request of {@code userId} on {@code endpoint} against every enabled window and, if
   * {@code record} is true and every window has room, counts it.
   *
   * @param userId who makes the request
   * @param endpoint what it is for
   * @param record false for a dry run, which counts nothing and creates no state
   * @return the decision; never null
   * @throws NullPointerException if {@code userId} or {@code endpoint} is null
   */
  RateLimitResult checkRateLimit(String userId, String endpoint, boolean record);

  /**
   * Checks and, if every window has room for it, counts a request that weighs {@code cost} (tokens,
   * say): admitted only if {@code count + cost <= limit} in every enabled window, and then {@code cost}
   * is added to each, all or nothing. A cost above some window's limit can never be admitted: it is
   * refused, naming that window, with {@code retryAfterSeconds} infinite.
   *
   * @param cost {@code >= 1}; {@code 1} is {@link #checkRateLimit(String, String)}
   * @throws IllegalArgumentException if {@code cost < 1}
   * @throws NullPointerException if {@code userId} or {@code endpoint} is null
   */
  RateLimitResult checkRateLimit(String userId, String endpoint, long cost);

  /**
   * Like {@link #checkRateLimit(String, String, boolean)}, with the extra facts an HTTP answer needs.
   *
   * @throws NullPointerException if {@code userId} or {@code endpoint} is null
   */
  default RateLimitDecision decide(String userId, String endpoint, boolean record) {
    return decide(userId, endpoint, 1, record);
  }

  /**
   * Like {@link #checkRateLimit(String, String, long)} (or its dry run when {@code record} is false),
   * with the extra facts an HTTP answer needs, all from the one step of the store.
   *
   * @throws IllegalArgumentException if {@code cost < 1}
   * @throws NullPointerException if {@code userId} or {@code endpoint} is null
   */
  RateLimitDecision decide(String userId, String endpoint, long cost, boolean record);

  /**
   * Reserves {@code tokens} in the pair's token windows before an LLM call: admitted only if
   * {@code count + tokens <= limit} in every enabled token window, and then counted in each, all or
   * nothing, atomically. Refused, it counts nothing and its {@link TokenReservation#result()} is a
   * refusal like a refused request's (a reservation above a window's limit can never be admitted:
   * {@code retryAfterSeconds} infinite). With no token window enabled, or {@code tokens == 0}, it is
   * granted and counts nothing. Settle it with the real usage ({@link TokenReservation#settle}).
   *
   * @throws IllegalArgumentException if {@code tokens < 0}
   * @throws NullPointerException if {@code userId} or {@code endpoint} is null
   */
  TokenReservation reserveTokens(String userId, String endpoint, long tokens);

  /**
   * Adds {@code tokens} to the pair's token windows unconditionally (no reservation): tokens already
   * spent. A window may exceed its limit by it; it then refuses admissions and reservations until it
   * frees. Does nothing when no token window is enabled or {@code tokens == 0}.
   *
   * @throws IllegalArgumentException if {@code tokens < 0}
   * @throws NullPointerException if {@code userId} or {@code endpoint} is null
   */
  void recordTokens(String userId, String endpoint, long tokens);

  /**
   * The pair's tightest enabled token window now, for response fields; empty when no token window is
   * enabled. Reading creates no state.
   *
   * @throws NullPointerException if an argument is null
   */
  java.util.Optional<TokenBudget> tokenBudget(String userId, String endpoint);

  /**
   * Takes one of the pair's {@link RateLimitConfig#maxConcurrentRequests()} slots for a request that
   * starts now, refused when all are held. The slot is a lease: returned by
   * {@link ConcurrencyPermit#release()}, or by itself {@code lease} after now. With no concurrency limit
   * it is granted and holds nothing.
   *
   * @param lease how long the slot is held at most (the request's timeout), {@code >= 1 ms}
   * @throws IllegalArgumentException if {@code lease} is shorter than 1 ms
   * @throws NullPointerException if an argument is null
   */
  ConcurrencyPermit acquirePermit(String userId, String endpoint, java.time.Duration lease);

  /** {@link #getUsage(String, String)} on the {@value #DEFAULT_ENDPOINT} endpoint. */
  default Map<LimitType, WindowUsage> getUsage(String userId) {
    return getUsage(userId, DEFAULT_ENDPOINT);
  }

  /**
   * How full each window of the pair is now: MINUTE, HOUR and DAY always, in that order, preceded by
   * BURST when the effective config has a burst window; then the enabled token windows
   * (TOKENS_MINUTE, TOKENS_HOUR, TOKENS_DAY), then CONCURRENCY when the config limits it (current =
   * slots held now, resetInSeconds 0). Reading creates no state.
   *
   * @return an unmodifiable map in window order
   * @throws NullPointerException if an argument is null
   */
  Map<LimitType, WindowUsage> getUsage(String userId, String endpoint);

  /**
   * Clears every window of every endpoint of one user; other users are untouched.
   *
   * @return how many windows were cleared: the request and token windows the config of each of the
   *     user's pairs enables (three per pair with the default config, four with a burst window);
   *     concurrency slots held by running requests stay held
   * @throws NullPointerException if {@code userId} is null
   */
  int resetUser(String userId);

  /**
   * Removes every pair whose enabled windows all count nothing now. Pairs also expire on their own;
   * this call makes it happen at once.
   *
   * @return how many pairs were removed, including those past their expiry time that it dropped
   */
  int cleanupExpired();

  /**
   * Up to {@code max} of the (user, endpoint) pairs that hold state now, in no particular order, for
   * admin views. Costs time in proportion to {@code max}; reading creates no state.
   *
   * @throws IllegalArgumentException if {@code max} is negative
   */
  java.util.List<RateLimitKey> keys(int max);

  /** How many (user, endpoint) pairs hold state now; an estimate while other threads change it. */
  long trackedKeys();

  /** Runs pending maintenance of the state store (evictions and expiries) now. */
  void cleanUp();

  /**
   * The listener this limiter reports its recorded decisions to ({@link Builder#listener}), guarded
   * so that it never throws; {@link ControlTowerListener#NOOP} when none was set. HTTP adapters built
   * on this limiter report their own events (processes, quota violations) to it too.
   */
  default ControlTowerListener listener() {
    return ControlTowerListener.NOOP;
  }

  /**
   * Builds a {@link RateLimiter}. Not thread-safe; each setting may be given once, and each is checked
   * when given.
   */
  final class Builder {
    private RateLimitConfig defaultConfig;
    private InstantSource clock;
    private long maximumKeys = -1;
    private int bucketCount = -1;
    private WindowStore store;
    private ControlTowerListener listener;

    private Builder() {}

    /** The config for users and endpoints without one; default {@link RateLimitConfig#defaults()}. */
    public Builder defaultConfig(RateLimitConfig config) {
      Checks.notNull("defaultConfig", config);
      Checks.notYetSet("defaultConfig", defaultConfig, defaultConfig != null);
      defaultConfig = config;
      return this;
    }

    /**
     * The time source, read once per call; default {@link InstantSource#system()}. Windows are aligned
     * on its epoch milliseconds. Tests pass a fake clock; nothing in the limiter sleeps.
     */
    public Builder clock(InstantSource clock) {
      Checks.notNull("clock", clock);
      Checks.notYetSet("clock", this.clock, this.clock != null);
      this.clock = clock;
      return this;
    }

    /**
     * The most (user, endpoint) pairs held at once, {@code >= 1}; default 1,000,000. Beyond it the
     * least valuable pairs are dropped.
     */
    public Builder maximumKeys(long maximumKeys) {
      if (store != null) {
        throw new IllegalStateException("maximumKeys is a setting of the in-memory store, but a store was set: "
            + store);
      }
      if (maximumKeys < 1) {
        throw new IllegalArgumentException("maximumKeys must be >= 1 but was " + maximumKeys);
      }
      Checks.notYetSet("maximumKeys", this.maximumKeys, this.maximumKeys != -1);
      this.maximumKeys = maximumKeys;
      return this;
    }

    /**
     * How many buckets each window is cut into; default 10. It must divide 1,000, so that every bucket
     * of every window is a whole number of milliseconds (1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, ...).
     * More buckets make the window's edge sharper and cost memory.
     */
    public Builder bucketCount(int bucketCount) {
      if (bucketCount < 1 || 1000 % bucketCount != 0) {
        throw new IllegalArgumentException("bucketCount must be a divisor of 1000 but was " + bucketCount);
      }
      Checks.notYetSet("bucketCount", this.bucketCount, this.bucketCount != -1);
      this.bucketCount = bucketCount;
      return this;
    }

    /**
     * Where the windows are counted; default a new in-memory store bounded by {@link #maximumKeys}.
     * A store comes with its own bound, so the two settings exclude each other. The limiter does not
     * close the store.
     */
    public Builder store(WindowStore store) {
      Checks.notNull("store", store);
      Checks.notYetSet("store", this.store, this.store != null);
      if (maximumKeys != -1) {
        throw new IllegalStateException("maximumKeys (" + maximumKeys + ") is a setting of the in-memory "
            + "store; a given store has its own bound");
      }
      this.store = store;
      return this;
    }

    /**
     * Told of every recorded decision (admitted with its binding window, or rejected with the window
     * it names; not dry runs), once per decision, on the deciding thread; default
     * {@link ControlTowerListener#NOOP}, which costs nothing. An exception from the listener is caught
     * and logged once ({@link ControlTowerListener#guarded}). A store reports its own events to the
     * listener its own builder is given.
     */
    public Builder listener(ControlTowerListener listener) {
      Checks.notNull("listener", listener);
      Checks.notYetSet("listener", this.listener, this.listener != null);
      this.listener = listener;
      return this;
    }

    /** The limiter. */
    public RateLimiter build() {
      InstantSource time = clock == null ? InstantSource.system() : clock;
      int buckets = bucketCount == -1 ? 10 : bucketCount;
      WindowStore windows = store != null
          ? store
          : new MemoryWindowStore(time, maximumKeys == -1 ? 1_000_000L : maximumKeys, buckets);
      return new PolicyRateLimiter(windows, time,
          defaultConfig == null ? RateLimitConfig.defaults() : defaultConfig, buckets,
          listener == null ? ControlTowerListener.NOOP : listener);
    }
  }
}
