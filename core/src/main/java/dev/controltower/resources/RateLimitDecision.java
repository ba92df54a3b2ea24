package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * A {@link RateLimitResult} with what an HTTP answer needs besides: the config that was applied (for a
 * {@code RateLimit-Policy} field), the window that binds, and the seconds until it resets (for a
 * {@code RateLimit} field). Returned by {@link RateLimiter#decide(String, String, boolean)}.
 *
 * @param result the result, exactly as {@link RateLimiter#checkRateLimit(String, String, boolean)} gives it
 * @param config the effective config for the (user, endpoint) pair
 * @param window the binding window: the refusing one when rejected, else the enabled window with the
 *     least room left (the first in {@link LimitType} order on a tie); {@code null} when no window is
 *     enabled
 * @param resetSeconds whole seconds, rounded up, until {@code window}'s count next falls, or, when
 *     rejected, {@code ceil(retryAfterSeconds)}, which is at least 1; 0 when the window counts nothing,
 *     or when the request can never be admitted (its cost exceeds a limit)
 * @param violated when rejected, every window that refused the request, in check order; empty when
 *     admitted
 */
public record RateLimitDecision(RateLimitResult result, RateLimitConfig config, LimitType window, long resetSeconds,
    java.util.List<LimitType> violated) {
  /**
   * Validates the fields.
   *
   * @throws NullPointerException if {@code result} or {@code config} is null
   * @throws IllegalArgumentException if {@code resetSeconds} is negative
   */
  public RateLimitDecision {
    Checks.notNull("result", result);
    Checks.notNull("config", config);
    Checks.nonNegative("resetSeconds", resetSeconds);
    Checks.notNull("violated", violated);
  }

  /** Whether the request can never be admitted: its cost exceeds a window's limit. */
  public boolean neverAdmitted() {
    return Double.isInfinite(result.retryAfterSeconds());
  }

  /** Whether the request is admitted. */
  public boolean allowed() {
    return result.allowed();
  }
}
