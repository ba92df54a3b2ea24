package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * A (user, endpoint) pair, the unit the {@link RateLimiter} counts in; listed by
 * {@link RateLimiter#keys(int)} for admin views.
 *
 * @param userId the user
 * @param endpoint the endpoint
 */
public record RateLimitKey(String userId, String endpoint) {
  /**
   * Validates the fields.
   *
   * @throws NullPointerException if a field is null
   */
  public RateLimitKey {
    Checks.notNull("userId", userId);
    Checks.notNull("endpoint", endpoint);
  }
}
