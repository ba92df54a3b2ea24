package dev.controltower.spi;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.internal.GuardedListener;
import org.slf4j.Logger;

/**
 * What the kit tells an observer (metrics, tracing, an audit log) about each decision it makes: one
 * call per event, after the decision, on the thread that made it. Every method does nothing by
 * default, so an implementation overrides only what it needs. The Micrometer binding
 * ({@code dev.controltower.micrometer.ControlTowerMetrics}) is one implementation; the core knows no
 * metrics library.
 *
 * <p><b>Where it is set.</b> {@code RateLimiter.builder().listener(...)}; a
 * {@link dev.controltower.http.RequestGate} (and so every HTTP adapter) uses its limiter's listener
 * unless its builder is given another. A store reports its own events to the listener given to it
 * (its builder's), which should be the same one.
 *
 * <p><b>What the arguments are.</b> Endpoint names (bounded by configuration: endpoint patterns, route
 * templates, and {@code default} for everything else), window names ({@link LimitType}), violation
 * codes and store modes. Never a user key, an address or a raw path: an implementation can use every
 * argument as a metric tag.
 *
 * <p><b>Cost.</b> Calls are made on the request's thread, so an implementation must be quick, must
 * not block, and must be thread-safe. With no listener set, the kit calls {@link #NOOP}, whose empty
 * methods the JIT inlines away, and computes no argument that only a listener would need.
 *
 * <p><b>Failures.</b> The kit wraps a listener it is given ({@link #guarded}): an exception from a
 * listener is caught, logged once at WARN (the first; later ones are not logged), and the request goes
 * on as if nothing had been called.
 *
 * <p>Token budgets and concurrency limits report through {@link #onTokensDebited} (a granted
 * reservation, an overshooting settle, an unconditional debit), {@link #onTokensRefunded} (a settle
 * for less, a reservation cancelled or released unsettled) and {@link #onConcurrencyRejected}. The store events ({@link #onStoreFallback}, {@link #onBreakerStateChanged},
 * {@link #onStoreLatency}) are called by stores that have those concepts (Redis); the in-memory store
 * has none.
 */
public interface ControlTowerListener {

  /** The listener that does nothing: the default everywhere. */
  ControlTowerListener NOOP = new ControlTowerListener() {
    @Override
    public String toString() {
      return "ControlTowerListener.NOOP";
    }
  };

  /**
   * A request was admitted and counted (dry runs are not reported).
   *
   * @param endpoint the endpoint it counted against
   * @param window the binding window: the enabled one with the least room left after it; {@code null}
   *     when the endpoint's config enables no window
   */
  default void onAdmitted(String endpoint, LimitType window) {}

  /**
   * A request was refused by a rate limit (dry runs are not reported).
   *
   * @param endpoint the endpoint it was refused on
   * @param window the window the refusal names (the one whose slot frees last)
   */
  default void onRejected(String endpoint, LimitType window) {}

  /**
   * An admitted request's process went over its quota. Reported once per process, for its first
   * violation (the one its 429 names), however often the application records after it.
   *
   * @param endpoint the request's endpoint
   * @param violation what was exceeded
   */
  default void onQuotaViolation(String endpoint, QuotaViolation violation) {}

  /**
   * An admitted request's process (pid) was allocated.
   *
   * @param endpoint the request's endpoint
   */
  default void onProcessStarted(String endpoint) {}

  /**
   * An admitted request's process was released: its response completed. Called once per
   * {@link #onProcessStarted}.
   *
   * @param endpoint the request's endpoint
   * @param durationNanos how long the process ran, from allocation to release, on the tracker's clock
   *     (so in whole milliseconds), in nanoseconds
   */
  default void onProcessEnded(String endpoint, long durationNanos) {}

  /**
   * Tokens were debited from a token window (a granted reservation, the excess of an overshooting
   * settle, or an unconditional debit).
   *
   * @param endpoint the endpoint whose windows were debited
   * @param tokens how many, {@code >= 1}
   */
  default void onTokensDebited(String endpoint, long tokens) {}

  /**
   * Reserved tokens were given back (a reservation settled for less, or never settled).
   *
   * @param endpoint the endpoint whose windows were refunded
   * @param tokens how many, {@code >= 1}
   */
  default void onTokensRefunded(String endpoint, long tokens) {}

  /**
   * A request was refused because the pair already had its maximum of concurrent requests.
   *
   * @param endpoint the endpoint it was refused on
   */
  default void onConcurrencyRejected(String endpoint) {}

  /**
   * A shared store could not answer and its fail mode decided instead (one call per decision).
   *
   * @param mode the fail mode's configuration name, such as {@code local}, {@code open} or
   *     {@code closed}: a small fixed set
   */
  default void onStoreFallback(String mode) {}

  /**
   * A store's circuit breaker changed state (one call per change, not per request).
   *
   * @param state the new state, such as {@code open}, {@code half_open} or {@code closed}: a small
   *     fixed set
   */
  default void onBreakerStateChanged(String state) {}

  /**
   * A store call to a backend (a Redis round trip) took this long.
   *
   * @param operation what was called, such as {@code acquire}, {@code check} or {@code read}: a small
   *     fixed set of the store's own names
   * @param durationNanos the call's time, in nanoseconds
   */
  default void onStoreLatency(String operation, long durationNanos) {}

  /**
   * {@code listener}, wrapped so that an exception from it never reaches the caller: the first is
   * logged at WARN on the logger of {@code ControlTowerListener}, later ones not at all. {@link #NOOP}
   * and an already guarded listener are returned as they are.
   *
   * @throws NullPointerException if {@code listener} is null
   */
  static ControlTowerListener guarded(ControlTowerListener listener) {
    return GuardedListener.of(listener, null);
  }

  /**
   * Like {@link #guarded(ControlTowerListener)}, logging the first failure on {@code logger}.
   *
   * @throws NullPointerException if an argument is null
   */
  static ControlTowerListener guarded(ControlTowerListener listener, Logger logger) {
    java.util.Objects.requireNonNull(logger, "logger must not be null");
    return GuardedListener.of(listener, logger);
  }
}
