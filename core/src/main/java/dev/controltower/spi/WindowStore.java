package dev.controltower.spi;

import dev.controltower.resources.RateLimitKey;
import java.util.List;

/**
 * Where a {@link dev.controltower.resources.RateLimiter} keeps its sliding windows: the extension point
 * below the decision and above the storage. The limiter owns the configs (endpoint &gt; user &gt;
 * default), compiles them into {@link WindowPlan}s and shapes results; a store does one atomic step per
 * (user, endpoint) pair and reports what it found in one {@link Outcome}. The window math is
 * {@link WindowMath}'s; every store gives the same answers, value for value, for the same calls at the
 * same times (the contract test kit in the core's test-jar holds every store to that).
 *
 * <p>Time is an argument: {@code nowMillis} is the limiter's clock in epoch ms. A store shared between
 * processes may use a clock of its own instead (so that the processes' clocks cannot disagree), and
 * then offers tests a way to set it.
 *
 * <p>Implementations are thread-safe. Per pair, {@link #acquire} is atomic: under any concurrency no
 * window admits more than its limit, and a refusal records nothing.
 */
public interface WindowStore extends AutoCloseable {

  /**
   * The in-memory store, the limiter's default: this process only, bounded by {@code maximumKeys}
   * pairs, expiring idle pairs on {@code clock}. For a shared store's local fallback, say.
   *
   * @param clock the time of expiry and eviction; the limiter's {@code now} should come from it too
   * @param maximumKeys the most pairs held, {@code >= 1}
   * @param bucketCount buckets per window, a divisor of 1,000 (the limiter's)
   * @throws IllegalArgumentException if a bound is out of range
   */
  static WindowStore inMemory(java.time.InstantSource clock, long maximumKeys, int bucketCount) {
    return new dev.controltower.resources.internal.MemoryWindowStore(clock, maximumKeys, bucketCount);
  }

  /**
   * Admits {@code cost} into every window of {@code plan} or into none: admitted when
   * {@code count + cost <= limit} in every window at {@code nowMillis}, and then counted in each.
   *
   * @param cost {@code >= 1}; the limiter has checked it
   * @return never null
   */
  Outcome acquire(String user, String endpoint, WindowPlan plan, long cost, long nowMillis);

  /** Like {@link #acquire} but counts nothing and creates no state (a dry run). */
  Outcome check(String user, String endpoint, WindowPlan plan, long cost, long nowMillis);

  /** How full the pair's windows are at {@code nowMillis}; creates no state. */
  WindowReading read(String user, String endpoint, WindowPlan plan, long nowMillis);

  /**
   * Removes every pair of {@code user}, whatever its endpoint.
   *
   * @return the endpoints of the pairs removed
   */
  List<String> resetUser(String user);

  /**
   * Removes every pair whose windows (those that {@code plans} enables for it now) all count nothing at
   * {@code nowMillis}, and pairs past their expiry.
   *
   * @return how many pairs it removed
   */
  int removeExpired(PlanSource plans, long nowMillis);

  /** Up to {@code max} pairs that hold state now, in no particular order; {@code max >= 0}. */
  List<RateLimitKey> keys(int max);

  /** How many pairs hold state now; an estimate while others change it. */
  long size();

  /** Runs pending maintenance (evictions, expiries) now; a store without any does nothing. */
  default void cleanUp() {}

  /** Releases what the store holds (connections, threads); the in-memory store holds none. */
  @Override
  default void close() {}

  /** The plan that applies to a pair now. */
  @FunctionalInterface
  interface PlanSource {
    /** The plan of the effective config of (user, endpoint). */
    WindowPlan planFor(String user, String endpoint);
  }
}
