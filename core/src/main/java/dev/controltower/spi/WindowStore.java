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
 *
 * <p><b>Token windows</b> (semantics.md "Token budgets") are windows of the same pair, with the same
 * buckets and rule, counted apart from the request windows: {@link #reserveTokens} admits tokens like a
 * weighted request, {@link #refundTokens} gives some back to the buckets they went to,
 * {@link #debitTokens} adds without a check, and {@link #acquire} refuses a request while a token window
 * is full. <b>Concurrency permits</b> ({@link #acquirePermit}, {@link #releasePermit},
 * {@link #permitsHeld}) are leases: one never released expires by itself. A store that does not
 * implement these yet throws {@link UnsupportedOperationException} from them (the defaults) and says
 * so through {@link #countsTokens()} and {@link #countsPermits()}: the limiter then refuses, when it is
 * given, any config that enables tokens or a concurrency limit, so that no request meets the gap.
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
   * Admits {@code cost} into every request window of {@code plan} or into none: admitted when
   * {@code count + cost <= limit} in every request window at {@code nowMillis}, and, when the plan has
   * token windows, none of them is full ({@code count >= limit}); then counted in each request window
   * (token windows count nothing for it). A refusal of a plan with token windows describes
   * {@link WindowPlan#checkedSize()} windows, the token windows after the request windows, a full token
   * window with the wait until its count is below its limit.
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
   * Admits {@code tokens} into every token window of {@code plan} or into none, atomically, exactly as
   * {@link #acquire} admits a weighted request: admitted when {@code count + tokens <= limit} in every
   * token window, and then counted in the current bucket of each.
   *
   * @param tokens {@code >= 1}; the limiter has checked it
   * @return the outcome, indexed by token window, and the time the tokens were counted at
   * @throws UnsupportedOperationException if this store does not count tokens
   */
  default TokenGrant reserveTokens(String user, String endpoint, WindowPlan plan, long tokens, long nowMillis) {
    throw unsupported("token windows");
  }

  /**
   * Gives back {@code tokens} of a reservation counted at {@code countedAt}
   * ({@link TokenGrant#countedAt()}): in each token window of {@code plan}, subtracts them from the
   * bucket the reservation went to if that bucket is still live, never below 0, leaving its latest
   * admission time as it was. A bucket that has left the window is not touched.
   *
   * @param tokens {@code >= 1}
   * @throws UnsupportedOperationException if this store does not count tokens
   */
  default void refundTokens(String user, String endpoint, WindowPlan plan, long tokens, long countedAt,
      long nowMillis) {
    throw unsupported("token windows");
  }

  /**
   * Adds {@code tokens} to every token window of {@code plan}, unconditionally (a debit may push a
   * window over its limit: the tokens were spent), in the current bucket, as an admission.
   *
   * @param tokens {@code >= 1}
   * @throws UnsupportedOperationException if this store does not count tokens
   */
  default void debitTokens(String user, String endpoint, WindowPlan plan, long tokens, long nowMillis) {
    throw unsupported("token windows");
  }

  /**
   * How full the pair's token windows are at {@code nowMillis}, indexed by token window; creates no
   * state.
   *
   * @throws UnsupportedOperationException if this store does not count tokens
   */
  default WindowReading readTokens(String user, String endpoint, WindowPlan plan, long nowMillis) {
    throw unsupported("token windows");
  }

  /** What {@link #acquirePermit} returns when every permit is held. */
  long NO_PERMIT = -1;

  /**
   * Takes one of the pair's {@code max} concurrency permits, if fewer than {@code max} are held at
   * {@code nowMillis}, as a lease that expires {@code leaseMillis} from now unless released first.
   * Atomic per pair: under any concurrency no more than {@code max} unexpired permits are held.
   *
   * @param max {@code >= 1}
   * @param leaseMillis {@code >= 1}
   * @return the permit's id, {@code >= 0}, to release it by; {@link #NO_PERMIT} when all are held
   * @throws UnsupportedOperationException if this store does not count permits
   */
  default long acquirePermit(String user, String endpoint, int max, long leaseMillis, long nowMillis) {
    throw unsupported("concurrency permits");
  }

  /**
   * Returns a permit. Returning one that expired or was returned already does nothing.
   *
   * @return whether this call returned a held permit
   * @throws UnsupportedOperationException if this store does not count permits
   */
  default boolean releasePermit(String user, String endpoint, long permit, long nowMillis) {
    throw unsupported("concurrency permits");
  }

  /**
   * How many of the pair's permits are held and unexpired at {@code nowMillis}.
   *
   * @throws UnsupportedOperationException if this store does not count permits
   */
  default int permitsHeld(String user, String endpoint, long nowMillis) {
    throw unsupported("concurrency permits");
  }

  /** Whether this store implements the token operations; the defaults say no. */
  default boolean countsTokens() {
    return false;
  }

  /** Whether this store implements the concurrency permits; the defaults say no. */
  default boolean countsPermits() {
    return false;
  }

  private UnsupportedOperationException unsupported(String what) {
    return new UnsupportedOperationException(getClass().getName() + " does not count " + what);
  }

  /**
   * Removes every pair of {@code user}, whatever its endpoint: request and token windows. Permits held
   * by running requests stay held.
   *
   * @return the endpoints of the pairs removed
   */
  List<String> resetUser(String user);

  /**
   * Removes every pair whose windows (request and token windows that {@code plans} enables for it now)
   * all count nothing at {@code nowMillis}, and pairs past their expiry; and forgets expired permits.
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
