package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * How full one sliding window of one (user, endpoint) pair is, as reported by
 * {@link RateLimiter#getUsage(String, String)}.
 *
 * @param current requests counted in the window now
 * @param limit the window's limit; 0 when the window is disabled
 * @param remaining {@code max(0, limit - current)}; 0 when the window is disabled
 * @param resetInSeconds whole seconds, rounded up, until the window's count next falls; 0 when it
 *     counts nothing
 */
public record WindowUsage(long current, long limit, long remaining, long resetInSeconds) {
  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if a field is negative
   */
  public WindowUsage {
    Checks.nonNegative("current", current);
    Checks.nonNegative("limit", limit);
    Checks.nonNegative("remaining", remaining);
    Checks.nonNegative("resetInSeconds", resetInSeconds);
  }
}
