package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.WindowUsage;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import dev.controltower.resources.ConcurrencyPermit;
import dev.controltower.resources.TokenBudget;
import dev.controltower.resources.TokenReservation;
import dev.controltower.spi.TokenGrant;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
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
  private final ControlTowerListener listener;
  private final Map<String, Compiled> userConfigs = new ConcurrentHashMap<>();
  private final Map<String, Compiled> endpointConfigs = new ConcurrentHashMap<>();
  /**
   * Whether a user (endpoint) config was ever set; set after its map's put and never cleared (configs
   * are replaced, not removed). Until then a lookup answers the default without probing the map: in a
   * server the map's table is often out of the cache, and most deployments have no per-user configs.
   */
  private volatile boolean anyUserConfig;
  private volatile boolean anyEndpointConfig;
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
    this(store, clock, defaultConfig, bucketCount, ControlTowerListener.NOOP);
  }

  /**
   * Use {@link RateLimiter#builder()}.
   *
   * @param store where the windows are counted
   * @param clock the time passed to the store
   * @param defaultConfig the default config
   * @param bucketCount buckets per window, a divisor of 1000
   * @param listener told of every recorded decision; guarded here if it is not already
   */
  public PolicyRateLimiter(WindowStore store, InstantSource clock, RateLimitConfig defaultConfig, int bucketCount,
      ControlTowerListener listener) {
    this.store = Checks.notNull("store", store);
    this.clock = Checks.notNull("clock", clock);
    this.bucketCount = bucketCount;
    this.listener = GuardedListener.of(listener, null);
    this.defaultConfig = compile(Checks.notNull("defaultConfig", defaultConfig));
  }

  private Compiled compile(RateLimitConfig config) {
    WindowPlan plan = WindowPlan.of(config, bucketCount);
    if (plan.hasTokenWindows() && !store.countsTokens()) {
      throw new IllegalArgumentException("token windows (" + config + ") need a store that counts tokens, and "
          + store.getClass().getSimpleName() + " does not yet: use the in-memory store for token budgets");
    }
    if (config.maxConcurrentRequests() > 0 && !store.countsPermits()) {
      throw new IllegalArgumentException("maxConcurrentRequests " + config.maxConcurrentRequests()
          + " needs a store that counts concurrency permits, and " + store.getClass().getSimpleName()
          + " does not yet: use the in-memory store for concurrency limits");
    }
    return new Compiled(config, plan);
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
    anyUserConfig = true;
  }

  @Override
  public void setEndpointLimits(String endpoint, RateLimitConfig config) {
    Checks.notNull("endpoint", endpoint);
    endpointConfigs.put(endpoint, compile(Checks.notNull("config", config)));
    anyEndpointConfig = true;
  }

  private Compiled compiledFor(String userId) {
    Checks.notNull("userId", userId);
    Compiled user = anyUserConfig ? userConfigs.get(userId) : null;
    return user != null ? user : defaultConfig;
  }

  private Compiled compiledFor(String userId, String endpoint) {
    Checks.notNull("endpoint", endpoint);
    Compiled forEndpoint = anyEndpointConfig ? endpointConfigs.get(endpoint) : null;
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
  public ControlTowerListener listener() {
    return listener;
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
    Outcome outcome = outcome(userId, endpoint, plan, 1, record);
    RateLimitResult result = result(outcome, plan, 1);
    if (record) {
      report(endpoint, plan, outcome, result);
    }
    return result;
  }

  @Override
  public RateLimitResult checkRateLimit(String userId, String endpoint, long cost) {
    Checks.positive("cost", cost);
    WindowPlan plan = planFor(userId, endpoint);
    Outcome outcome = outcome(userId, endpoint, plan, cost, true);
    RateLimitResult result = result(outcome, plan, cost);
    report(endpoint, plan, outcome, result);
    return result;
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
      RateLimitResult result = admitted(outcome, plan);
      if (record) {
        report(endpoint, plan, outcome, result);
      }
      int tightest = outcome.tightest();
      return new RateLimitDecision(result, compiled.config(),
          tightest < 0 ? null : plan.type(tightest), WindowMath.ceilSeconds(outcome.resetMillis()), List.of());
    }
    int naming = naming(outcome);
    RateLimitResult result = refused(outcome, plan, cost, naming);
    if (record) {
      report(endpoint, plan, outcome, result);
    }
    return refusedDecision(outcome, result, compiled.config(), plan::checkedType, naming);
  }

  /** The decision of a refusal: every refusing window (indexed as the outcome is), the naming one's wait. */
  private static RateLimitDecision refusedDecision(Outcome outcome, RateLimitResult result, RateLimitConfig config,
      java.util.function.IntFunction<LimitType> typeAt, int naming) {
    List<LimitType> violated = new ArrayList<>(outcome.windows());
    for (int i = 0; i < outcome.windows(); i++) {
      if (outcome.waitMillis(i) != Outcome.ROOM) {
        violated.add(typeAt.apply(i));
      }
    }
    long wait = outcome.waitMillis(naming);
    long resetSeconds = wait == Outcome.NEVER ? 0 : Math.max(1, WindowMath.ceilSeconds(wait));
    return new RateLimitDecision(result, config, result.limitType(), resetSeconds,
        Collections.unmodifiableList(violated));
  }

  private Outcome outcome(String userId, String endpoint, WindowPlan plan, long cost, boolean record) {
    Checks.notNull("userId", userId);
    if (plan.isEmpty() && !plan.hasTokenWindows()) {
      return Outcome.admitted(-1, 0, Long.MAX_VALUE, 0); // nothing to count, nothing to store
    }
    long now = clock.millis();
    return record ? store.acquire(userId, endpoint, plan, cost, now) : store.check(userId, endpoint, plan, cost, now);
  }

  /**
   * Tells the listener about a recorded decision: once per decision, whichever entry point made it.
   * With no listener this is a call of an empty method on {@link ControlTowerListener#NOOP}, which
   * the JIT inlines; the window is an array read either way.
   */
  private void report(String endpoint, WindowPlan plan, Outcome outcome, RateLimitResult result) {
    if (outcome.admitted()) {
      int tightest = outcome.tightest();
      listener.onAdmitted(endpoint, tightest < 0 ? null : plan.type(tightest));
    } else {
      listener.onRejected(endpoint, result.limitType()); // the naming window, found once by the result
    }
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
    LimitType type = plan.checkedType(naming);
    long count = outcome.count(naming);
    long limit = plan.checkedLimit(naming);
    long wait = outcome.waitMillis(naming);
    if (wait == Outcome.NEVER) {
      return new RateLimitResult(false, type, count, limit, 0, Double.POSITIVE_INFINITY,
          "cost " + cost + " exceeds the " + type.wireName() + " limit " + limit + " and can never be admitted");
    }
    if (type.isTokenWindow()) {
      return new RateLimitResult(false, type, count, limit, 0, wait / 1000.0, tokensExceeded(type, count, limit));
    }
    return cost == 1
        ? RateLimitResult.rejected(type, count, limit, wait / 1000.0)
        : new RateLimitResult(false, type, count, limit, 0, wait / 1000.0, "Rate limit exceeded: " + count + "/"
            + limit + " requests per " + type.wireName() + ", and this request costs " + cost);
  }

  /** "Token limit exceeded: 20150/20000 tokens per minute". */
  private static String tokensExceeded(LimitType type, long count, long limit) {
    return "Token limit exceeded: " + count + "/" + limit + " tokens per "
        + type.wireName().substring("tokens-".length());
  }

  // ---- tokens ----

  @Override
  public TokenReservation reserveTokens(String userId, String endpoint, long tokens) {
    Checks.nonNegative("tokens", tokens);
    Compiled compiled = compiledFor(userId, endpoint);
    Checks.notNull("userId", userId);
    WindowPlan plan = compiled.plan();
    if (tokens == 0 || !plan.hasTokenWindows()) {
      RateLimitResult free = RateLimitResult.allowed(0, 0, Long.MAX_VALUE);
      return new Reservation(userId, endpoint, plan, 0, 0, free,
          new RateLimitDecision(free, compiled.config(), null, 0, List.of()));
    }
    TokenGrant grant = store.reserveTokens(userId, endpoint, plan, tokens, clock.millis());
    Outcome outcome = grant.outcome();
    if (outcome.admitted()) {
      int j = outcome.tightest();
      listener.onTokensDebited(endpoint, tokens);
      RateLimitResult result = RateLimitResult.allowed(outcome.tightestCount(), plan.tokenLimit(j), outcome.remaining());
      return new Reservation(userId, endpoint, plan, tokens, grant.countedAt(), result, new RateLimitDecision(result,
          compiled.config(), plan.tokenType(j), WindowMath.ceilSeconds(outcome.resetMillis()), List.of()));
    }
    int naming = naming(outcome);
    LimitType type = plan.tokenType(naming);
    long count = outcome.count(naming);
    long limit = plan.tokenLimit(naming);
    long wait = outcome.waitMillis(naming);
    RateLimitResult result = wait == Outcome.NEVER
        ? new RateLimitResult(false, type, count, limit, 0, Double.POSITIVE_INFINITY, "a reservation of " + tokens
            + " tokens exceeds the " + type.wireName() + " limit " + limit + " and can never be admitted")
        : new RateLimitResult(false, type, count, limit, 0, wait / 1000.0,
            tokensExceeded(type, count, limit) + ", and this call reserves " + tokens);
    return new Reservation(userId, endpoint, plan, 0, 0, result,
        refusedDecision(outcome, result, compiled.config(), plan::tokenType, naming));
  }

  @Override
  public void recordTokens(String userId, String endpoint, long tokens) {
    Checks.nonNegative("tokens", tokens);
    WindowPlan plan = planFor(userId, endpoint);
    Checks.notNull("userId", userId);
    if (tokens > 0 && plan.hasTokenWindows()) {
      store.debitTokens(userId, endpoint, plan, tokens, clock.millis());
      listener.onTokensDebited(endpoint, tokens);
    }
  }

  @Override
  public Optional<TokenBudget> tokenBudget(String userId, String endpoint) {
    WindowPlan plan = planFor(userId, endpoint);
    Checks.notNull("userId", userId);
    if (!plan.hasTokenWindows()) {
      return Optional.empty();
    }
    WindowReading reading = store.readTokens(userId, endpoint, plan, clock.millis());
    int tightest = 0;
    long least = Long.MAX_VALUE;
    for (int j = 0; j < plan.tokenSize(); j++) {
      long room = Math.max(0, plan.tokenLimit(j) - reading.counts()[j]);
      if (room < least) {
        least = room;
        tightest = j;
      }
    }
    return Optional.of(new TokenBudget(plan.tokenType(tightest), plan.tokenLimit(tightest),
        reading.counts()[tightest], least, reading.resetMillis()[tightest]));
  }

  /** A reservation: settles once, through the store, against the plan it was made with. */
  private final class Reservation implements TokenReservation {
    private final String userId;
    private final String endpoint;
    private final WindowPlan plan;
    private final long tokens;
    private final long countedAt;
    private final RateLimitResult result;
    private final RateLimitDecision decision;
    private final AtomicBoolean settled = new AtomicBoolean();

    Reservation(String userId, String endpoint, WindowPlan plan, long tokens, long countedAt, RateLimitResult result,
        RateLimitDecision decision) {
      this.userId = userId;
      this.endpoint = endpoint;
      this.plan = plan;
      this.tokens = tokens;
      this.countedAt = countedAt;
      this.result = result;
      this.decision = decision;
    }

    @Override
    public boolean granted() {
      return result.allowed();
    }

    @Override
    public RateLimitResult result() {
      return result;
    }

    @Override
    public RateLimitDecision decision() {
      return decision;
    }

    @Override
    public long tokens() {
      return tokens;
    }

    @Override
    public void settle(long actualTokens) {
      Checks.nonNegative("actualTokens", actualTokens);
      if (!granted()) {
        throw new IllegalStateException("a refused reservation reserved nothing and cannot be settled: " + result);
      }
      if (!settled.compareAndSet(false, true)) {
        throw new IllegalStateException("the reservation of " + tokens + " tokens was settled already");
      }
      if (!plan.hasTokenWindows()) {
        return;
      }
      if (actualTokens < tokens) {
        store.refundTokens(userId, endpoint, plan, tokens - actualTokens, countedAt, clock.millis());
        listener.onTokensRefunded(endpoint, tokens - actualTokens);
      } else if (actualTokens > tokens) {
        store.debitTokens(userId, endpoint, plan, actualTokens - tokens, clock.millis());
        listener.onTokensDebited(endpoint, actualTokens - tokens);
      }
    }

    @Override
    public boolean isSettled() {
      return settled.get();
    }

    @Override
    public String toString() {
      return "TokenReservation[" + tokens + " tokens, " + (granted() ? settled.get() ? "settled" : "held" : "refused")
          + "]";
    }
  }

  // ---- concurrency ----

  /** The permit of a pair without a concurrency limit: holds nothing. */
  private static final class Unlimited implements ConcurrencyPermit {
    private final RateLimitDecision decision;

    Unlimited(RateLimitConfig config) {
      RateLimitResult free = RateLimitResult.allowed(0, 0, Long.MAX_VALUE);
      this.decision = new RateLimitDecision(free, config, null, 0, List.of());
    }

    @Override
    public boolean granted() {
      return true;
    }

    @Override
    public RateLimitResult result() {
      return decision.result();
    }

    @Override
    public RateLimitDecision decision() {
      return decision;
    }

    @Override
    public boolean release() {
      return false;
    }
  }

  @Override
  public ConcurrencyPermit acquirePermit(String userId, String endpoint, Duration lease) {
    Checks.notNull("lease", lease);
    Compiled compiled = compiledFor(userId, endpoint);
    Checks.notNull("userId", userId);
    int max = compiled.plan().maxConcurrentRequests();
    if (max == 0) {
      return new Unlimited(compiled.config());
    }
    long leaseMillis = lease.toMillis();
    if (leaseMillis < 1) {
      throw new IllegalArgumentException(Checks.mustBe("lease", ">= 1 ms", lease));
    }
    long now = clock.millis();
    long id = store.acquirePermit(userId, endpoint, max, leaseMillis, now);
    if (id == WindowStore.NO_PERMIT) {
      listener.onConcurrencyRejected(endpoint);
      long held = Math.max(store.permitsHeld(userId, endpoint, now), max);
      RateLimitResult refused = new RateLimitResult(false, LimitType.CONCURRENCY, held, max, 0, 1.0,
          "Concurrency limit exceeded: " + held + "/" + max + " requests running");
      return new Permit(null, null, NO_PERMIT, new RateLimitDecision(refused, compiled.config(), LimitType.CONCURRENCY,
          1, List.of(LimitType.CONCURRENCY)));
    }
    RateLimitResult granted = RateLimitResult.allowed(0, max, 0);
    return new Permit(userId, endpoint, id, new RateLimitDecision(granted, compiled.config(), LimitType.CONCURRENCY, 0,
        List.of()));
  }

  private static final long NO_PERMIT = WindowStore.NO_PERMIT;

  /** A permit of a pair with a concurrency limit, granted or refused. */
  private final class Permit implements ConcurrencyPermit {
    private final String userId;
    private final String endpoint;
    private final long id;
    private final RateLimitDecision decision;
    private final AtomicBoolean released = new AtomicBoolean();

    Permit(String userId, String endpoint, long id, RateLimitDecision decision) {
      this.userId = userId;
      this.endpoint = endpoint;
      this.id = id;
      this.decision = decision;
    }

    @Override
    public boolean granted() {
      return id != NO_PERMIT;
    }

    @Override
    public RateLimitResult result() {
      return decision.result();
    }

    @Override
    public RateLimitDecision decision() {
      return decision;
    }

    @Override
    public boolean release() {
      return granted() && released.compareAndSet(false, true)
          && store.releasePermit(userId, endpoint, id, clock.millis());
    }

    @Override
    public String toString() {
      return "ConcurrencyPermit[" + (granted() ? released.get() ? "released" : "held" : "refused") + "]";
    }
  }

  @Override
  public Map<LimitType, WindowUsage> getUsage(String userId, String endpoint) {
    Compiled compiled = compiledFor(userId, endpoint);
    WindowPlan plan = compiled.plan();
    Checks.notNull("userId", userId);
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
    if (plan.hasTokenWindows()) {
      WindowReading tokens = store.readTokens(userId, endpoint, plan, clock.millis());
      for (int j = 0; j < plan.tokenSize(); j++) {
        long current = tokens.counts()[j];
        long limit = plan.tokenLimit(j);
        usage.put(plan.tokenType(j), new WindowUsage(current, limit, Math.max(0, limit - current),
            WindowMath.ceilSeconds(tokens.resetMillis()[j])));
      }
    }
    int max = plan.maxConcurrentRequests();
    if (max > 0) {
      long held = store.permitsHeld(userId, endpoint, clock.millis());
      usage.put(LimitType.CONCURRENCY, new WindowUsage(held, max, Math.max(0, max - held), 0));
    }
    return Collections.unmodifiableMap(usage);
  }

  @Override
  public int resetUser(String userId) {
    Checks.notNull("userId", userId);
    int cleared = 0;
    for (String endpoint : store.resetUser(userId)) {
      WindowPlan plan = planFor(userId, endpoint);
      cleared += plan.size() + plan.tokenSize();
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
