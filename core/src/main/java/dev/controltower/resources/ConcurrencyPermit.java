package dev.controltower.resources;

/**
 * One of a pair's {@link RateLimitConfig#maxConcurrentRequests()} slots, held by a running request
 * ({@link RateLimiter#acquirePermit}) and returned when it finishes. A permit never returned (a lost
 * release, a crashed instance on a shared store) expires after its lease.
 *
 * <p>Thread-safe; {@link #release()} is idempotent.
 */
public interface ConcurrencyPermit {
  /** Whether a slot was taken (always, when the pair has no concurrency limit). */
  boolean granted();

  /**
   * When refused: {@link LimitType#CONCURRENCY}, the permits held, the limit, and
   * {@code retryAfterSeconds} 1.0 (a slot has no time-based wait); when granted, an admission whose
   * {@code limit} is the concurrency limit ({@code current} and {@code remaining} are not measured: 0,
   * which saves the store a second step per request; {@link RateLimiter#getUsage} reports them).
   */
  RateLimitResult result();

  /** {@link #result()} with what an HTTP answer needs besides. */
  RateLimitDecision decision();

  /**
   * Returns the slot, once.
   *
   * @return whether this call returned a held slot (false when refused, unlimited, expired or returned)
   */
  boolean release();
}
