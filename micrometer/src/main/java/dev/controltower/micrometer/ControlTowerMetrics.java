package dev.controltower.micrometer;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.QuotaViolation;
import dev.controltower.spi.ControlTowerListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The kit's events as Micrometer meters: a {@link ControlTowerListener} to give the limiter, and a
 * {@link MeterBinder} to bind to a registry.
 *
 * <pre>{@code
 * ControlTowerMetrics metrics = new ControlTowerMetrics();
 * metrics.bindTo(registry);
 * RateLimiter limiter = RateLimiter.builder().listener(metrics).build();
 * }</pre>
 *
 * <p><b>Meters</b> (Micrometer names; a Prometheus registry writes {@code controltower_requests_total}
 * and so on):
 * <ul>
 *   <li>{@value #REQUESTS} counter {outcome=admitted|rejected, window, endpoint}: every recorded
 *       decision; {@code window} is the binding window ({@code burst}, {@code minute}, {@code hour},
 *       {@code day}, or {@code none} when no window is enabled).
 *   <li>{@value #QUOTA_VIOLATIONS} counter {reason}: processes that went over their quota, by code;
 *       every code is registered at 0 when bound.
 *   <li>{@value #PROCESSES_ACTIVE} gauge: processes started and not yet ended.
 *   <li>{@value #PROCESS_DURATION} timer {endpoint}: allocation to release of each process.
 *   <li>{@value #CONCURRENCY_REJECTIONS} counter {endpoint}: concurrency refusals.
 *   <li>{@value #TOKENS} counter {direction=debit|refund}, registered at 0 when bound.
 *   <li>{@value #STORE_FALLBACKS} counter {mode}, {@value #STORE_BREAKER_TRANSITIONS} counter {state},
 *       {@value #STORE_LATENCY} timer {operation}: a shared store's own events.
 * </ul>
 *
 * <p><b>Cardinality.</b> Tag values are what the kit passes: endpoint names (bounded by configuration,
 * with every unmatched path already {@code default}), window names, violation codes and store names,
 * never a user, key, address or raw path. As a defence, at most {@code maxEndpoints} distinct endpoint
 * values (default {@value #DEFAULT_MAX_ENDPOINTS}) get tags of their own; later ones are counted as
 * {@value #OTHER}. Store tags ({@code mode}, {@code state}, {@code operation}) are capped at
 * {@value #MAX_STORE_VALUES} values each the same way. So the series are at most about
 * {@code (maxEndpoints + 1) x (18 request series + 2)} plus a fixed few, whatever clients send.
 *
 * <p><b>Cost.</b> Meters are made once and kept. The per-request events (admitted, rejected) are
 * counted per thread without an atomic instruction and summed when a registry reads them
 * ({@code FunctionCounter}s; see {@link DecisionCounts}): an event is a lookup of one static
 * thread-local, a comparison with the thread's last endpoint string (else one {@link String#equals}
 * and, for another endpoint, one {@link ConcurrentHashMap#get}) and a store. The
 * other events update ordinary Micrometer meters. No allocation per event by this class.
 *
 * <p><b>Thread safety.</b> Thread-safe. Events before {@link #bindTo} are not counted. One instance
 * binds to one registry (use a {@code CompositeMeterRegistry} for several), and a registry takes one
 * instance: a second one would find the first one's request meters already registered under the same
 * names and tags, and its own counts would not be seen (give it distinct {@code commonTags}).
 */
public final class ControlTowerMetrics implements ControlTowerListener, MeterBinder {
  /** The counter of recorded decisions. */
  public static final String REQUESTS = "controltower.requests";
  /** The counter of quota violations. */
  public static final String QUOTA_VIOLATIONS = "controltower.quota.violations";
  /** The gauge of running processes. */
  public static final String PROCESSES_ACTIVE = "controltower.processes.active";
  /** The timer of process durations. */
  public static final String PROCESS_DURATION = "controltower.process.duration";
  /** The counter of concurrency refusals. */
  public static final String CONCURRENCY_REJECTIONS = "controltower.concurrency.rejections";
  /** The counter of tokens debited and refunded. */
  public static final String TOKENS = "controltower.tokens";
  /** The counter of fail-mode decisions of a shared store. */
  public static final String STORE_FALLBACKS = "controltower.store.fallbacks";
  /** The counter of a store's circuit-breaker state changes. */
  public static final String STORE_BREAKER_TRANSITIONS = "controltower.store.breaker.transitions";
  /** The timer of a store's backend calls. */
  public static final String STORE_LATENCY = "controltower.store.latency";

  /** The default bound on distinct endpoint tag values. */
  public static final int DEFAULT_MAX_ENDPOINTS = 100;
  /** The tag value that stands for every endpoint (or store value) past the bound. */
  public static final String OTHER = "other";
  /** The bound on distinct values of each store tag. */
  public static final int MAX_STORE_VALUES = 16;

  private static final LimitType[] WINDOWS = LimitType.values();
  /** Request series per endpoint: admitted then rejected, each by no window then every window. */
  private static final int SLOTS = 2 * (WINDOWS.length + 1);

  static {
    if (SLOTS > Integer.SIZE) {
      throw new AssertionError("a thread's seen-registered slots are bits of an int: " + SLOTS + " slots");
    }
  }
  private static final QuotaViolation[] VIOLATIONS = QuotaViolation.values();

  private final int maxEndpoints;
  private final Tags commonTags;
  private final AtomicLong activeProcesses = new AtomicLong();
  private volatile Bound bound;

  /** A binding with {@value #DEFAULT_MAX_ENDPOINTS} endpoint values and no extra tags. */
  public ControlTowerMetrics() {
    this(DEFAULT_MAX_ENDPOINTS, Tags.empty());
  }

  /**
   * A binding.
   *
   * @param maxEndpoints how many distinct endpoint tag values get series of their own, {@code >= 1};
   *     the rest count as {@value #OTHER}
   * @param commonTags added to every meter (an application or instance name, say)
   * @throws IllegalArgumentException if {@code maxEndpoints < 1}
   * @throws NullPointerException if {@code commonTags} is null
   */
  public ControlTowerMetrics(int maxEndpoints, Iterable<Tag> commonTags) {
    if (maxEndpoints < 1) {
      throw new IllegalArgumentException("maxEndpoints must be >= 1 but was " + maxEndpoints);
    }
    this.maxEndpoints = maxEndpoints;
    this.commonTags = Tags.of(Objects.requireNonNull(commonTags, "commonTags must not be null"));
  }

  /**
   * Registers the meters that exist from the start (the active-process gauge, one violation counter
   * per code, the token counters) in {@code registry}; the others appear with their first event.
   *
   * @throws IllegalStateException if this instance is bound to another registry already
   */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry must not be null");
    Bound current = bound;
    if (current != null) {
      if (current.registry == registry) {
        return;
      }
      throw new IllegalStateException("ControlTowerMetrics is bound to one registry and was already bound to "
          + current.registry + "; bind a CompositeMeterRegistry to reach several");
    }
    bound = new Bound(registry);
  }

  @Override
  public void onAdmitted(String endpoint, LimitType window) {
    Bound b = bound;
    if (b != null) {
      b.decided(endpoint, window == null ? 0 : window.ordinal() + 1);
    }
  }

  @Override
  public void onRejected(String endpoint, LimitType window) {
    Bound b = bound;
    if (b != null) {
      b.decided(endpoint, WINDOWS.length + 1 + (window == null ? 0 : window.ordinal() + 1));
    }
  }

  @Override
  public void onQuotaViolation(String endpoint, QuotaViolation violation) {
    Bound b = bound;
    if (b != null) {
      b.violations[violation.ordinal()].increment();
    }
  }

  @Override
  public void onProcessStarted(String endpoint) {
    activeProcesses.incrementAndGet();
  }

  @Override
  public void onProcessEnded(String endpoint, long durationNanos) {
    activeProcesses.decrementAndGet();
    Bound b = bound;
    if (b != null) {
      b.endpoint(endpoint).duration().record(durationNanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void onTokensDebited(String endpoint, long tokens) {
    Bound b = bound;
    if (b != null) {
      b.tokensDebited.increment(tokens);
    }
  }

  @Override
  public void onTokensRefunded(String endpoint, long tokens) {
    Bound b = bound;
    if (b != null) {
      b.tokensRefunded.increment(tokens);
    }
  }

  @Override
  public void onConcurrencyRejected(String endpoint) {
    Bound b = bound;
    if (b != null) {
      b.endpoint(endpoint).concurrency().increment();
    }
  }

  @Override
  public void onStoreFallback(String mode) {
    Bound b = bound;
    if (b != null) {
      b.fallbacks.get(mode).increment();
    }
  }

  @Override
  public void onBreakerStateChanged(String state) {
    Bound b = bound;
    if (b != null) {
      b.breaker.get(state).increment();
    }
  }

  @Override
  public void onStoreLatency(String operation, long durationNanos) {
    Bound b = bound;
    if (b != null) {
      b.latency.get(operation).record(durationNanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public String toString() {
    return "ControlTowerMetrics[maxEndpoints=" + maxEndpoints + "]";
  }

  /** The meters of one registry. */
  private final class Bound {
    final MeterRegistry registry;
    final DecisionCounts decisions = new DecisionCounts((maxEndpoints + 1) * SLOTS);
    final ConcurrentMap<String, EndpointMeters> endpoints = new ConcurrentHashMap<>();
    /** Set once the bound is reached: from then on a miss is {@link #other}, without a lock. */
    volatile boolean full;
    final EndpointMeters other;
    final Counter[] violations = new Counter[VIOLATIONS.length];
    final Counter tokensDebited;
    final Counter tokensRefunded;
    final Capped<Counter> fallbacks;
    final Capped<Counter> breaker;
    final Capped<Timer> latency;

    Bound(MeterRegistry registry) {
      this.registry = registry;
      this.other = new EndpointMeters(this, OTHER, maxEndpoints);
      Gauge.builder(PROCESSES_ACTIVE, activeProcesses, AtomicLong::get).tags(commonTags)
          .description("Processes (admitted requests) started and not yet ended").register(registry);
      for (QuotaViolation v : VIOLATIONS) {
        violations[v.ordinal()] = Counter.builder(QUOTA_VIOLATIONS).tags(commonTags).tag("reason", v.code())
            .description("Processes that went over their resource quota, by the first violation").register(registry);
      }
      tokensDebited = tokens("debit");
      tokensRefunded = tokens("refund");
      fallbacks = new Capped<>(mode -> Counter.builder(STORE_FALLBACKS).tags(commonTags).tag("mode", mode)
          .description("Decisions a shared store's fail mode made while the store could not answer").register(registry));
      breaker = new Capped<>(state -> Counter.builder(STORE_BREAKER_TRANSITIONS).tags(commonTags).tag("state", state)
          .description("State changes of a shared store's circuit breaker, by the new state").register(registry));
      latency = new Capped<>(operation -> Timer.builder(STORE_LATENCY).tags(commonTags).tag("operation", operation)
          .description("Time of a shared store's backend calls").register(registry));
    }

    Tags commonTags() {
      return commonTags;
    }

    private Counter tokens(String direction) {
      return Counter.builder(TOKENS).baseUnit("tokens").tags(commonTags).tag("direction", direction)
          .description("LLM tokens debited from and refunded to token windows").register(registry);
    }

    EndpointMeters endpoint(String name) {
      EndpointMeters m = endpoints.get(name);
      if (m != null) {
        return m;
      }
      return full ? other : admit(name);
    }

    private synchronized EndpointMeters admit(String name) {
      EndpointMeters m = endpoints.get(name);
      if (m != null) {
        return m;
      }
      if (OTHER.equals(name)) {
        // Its tags are those of the series past the bound: one series, else the registry would read
        // only the first of two registered under one id.
        return other;
      }
      if (endpoints.size() >= maxEndpoints) {
        full = true;
        return other;
      }
      m = new EndpointMeters(this, name, endpoints.size());
      endpoints.put(name, m);
      return m;
    }

    /**
     * Counts one decision of {@code slot} (see {@link #SLOTS}) on {@code endpoint}, on this thread. The
     * common case, the thread's last endpoint (the same string) with a slot it has seen registered, is
     * two comparisons and the increment.
     */
    void decided(String endpoint, int slot) {
      DecisionCounts.Cells cells = decisions.cells();
      if (endpoint != cells.lastEndpoint) {
        switchTo(cells, endpoint);
      }
      if ((cells.lastKnown & (1 << slot)) == 0) {
        known(cells, slot);
      }
      decisions.increment(cells, cells.lastBase + slot);
    }

    /** Makes {@code endpoint} the thread's last one: its meters, unless it equals the last one. */
    private void switchTo(DecisionCounts.Cells cells, String endpoint) {
      if (!endpoint.equals(cells.lastEndpoint)) {
        EndpointMeters m = endpoint(endpoint);
        cells.lastMeters = m;
        cells.lastBase = m.id * SLOTS;
        cells.lastKnown = 0;
      }
      cells.lastEndpoint = endpoint;
    }

    /** Registers the last endpoint's series {@code slot} if no thread has yet, and notes it as seen. */
    private void known(DecisionCounts.Cells cells, int slot) {
      EndpointMeters m = (EndpointMeters) cells.lastMeters;
      if (!m.registered[slot]) {
        m.register(slot);
      }
      cells.lastKnown |= 1 << slot;
    }
  }

  /**
   * One endpoint's meters, made at their first event and kept. Racing first events may both ask the
   * registry, which hands both the same meter.
   */
  private static final class EndpointMeters {
    final Bound bound;
    final String name;
    /** Its place among the endpoints: request series {@code id * SLOTS} to {@code id * SLOTS + SLOTS - 1}. */
    final int id;
    /** Which request series are registered; read without a lock (a stale false only registers again). */
    final boolean[] registered = new boolean[SLOTS];
    volatile Timer duration;
    volatile Counter concurrency;

    EndpointMeters(Bound bound, String name, int id) {
      this.bound = bound;
      this.name = name;
      this.id = id;
    }

    /** Registers request series {@code slot}: a FunctionCounter over the thread-striped count. */
    void register(int slot) {
      boolean admitted = slot <= WINDOWS.length;
      int window = admitted ? slot : slot - WINDOWS.length - 1;
      int series = id * SLOTS + slot;
      DecisionCounts counts = bound.decisions;
      // The registry holds this object weakly; the endpoint map (or Bound.other) holds it strongly.
      FunctionCounter.builder(REQUESTS, this, m -> counts.sum(series)).tags(bound.commonTags())
          .tag("outcome", admitted ? "admitted" : "rejected")
          .tag("window", window == 0 ? "none" : WINDOWS[window - 1].wireName()).tag("endpoint", name)
          .description("Requests the rate limiter decided on: admitted with the binding window, or rejected with"
              + " the window it names")
          .register(bound.registry);
      registered[slot] = true;
    }

    Timer duration() {
      Timer t = duration;
      if (t == null) {
        t = Timer.builder(PROCESS_DURATION).tags(bound.commonTags()).tag("endpoint", name)
            .description("Time from a process's allocation to its release (its request's whole run)")
            .register(bound.registry);
        duration = t;
      }
      return t;
    }

    Counter concurrency() {
      Counter c = concurrency;
      if (c == null) {
        c = Counter.builder(CONCURRENCY_REJECTIONS).tags(bound.commonTags()).tag("endpoint", name)
            .description("Requests refused because their user already had the most concurrent requests")
            .register(bound.registry);
        concurrency = c;
      }
      return c;
    }
  }

  /** Meters by one store tag, at most {@value #MAX_STORE_VALUES} values, then {@value #OTHER}. */
  private static final class Capped<M> {
    private final Function<String, M> make;
    private final ConcurrentMap<String, M> meters = new ConcurrentHashMap<>();
    /** Set once the bound is reached: from then on a miss is {@code other}, without a lock. */
    private volatile M other;

    Capped(Function<String, M> make) {
      this.make = make;
    }

    M get(String value) {
      String v = value == null ? "none" : value;
      M m = meters.get(v);
      if (m != null) {
        return m;
      }
      M full = other;
      return full != null ? full : slow(v);
    }

    private synchronized M slow(String value) {
      M m = meters.get(value);
      if (m != null) {
        return m;
      }
      if (meters.size() >= MAX_STORE_VALUES) {
        if (other == null) {
          other = make.apply(OTHER);
        }
        return other;
      }
      m = make.apply(value);
      meters.put(value, m);
      return m;
    }
  }
}
