package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * The tightest token window of a pair now (the one with the least room, the first of tokens-minute,
 * -hour, -day on a tie), for the {@code x-ratelimit-*-tokens} response fields.
 *
 * @param window a token window
 * @param limit its limit in tokens
 * @param current its count; may exceed the limit after an overshooting debit
 * @param remaining {@code max(0, limit - current)}
 * @param resetMillis ms until its count next falls; 0 when it counts nothing
 */
public record TokenBudget(LimitType window, long limit, long current, long remaining, long resetMillis) {
  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if {@code window} is not a token window or a number is negative
   */
  public TokenBudget {
    Checks.notNull("window", window);
    if (!window.isTokenWindow()) {
      throw new IllegalArgumentException(Checks.mustBe("window", "a token window", window));
    }
    Checks.nonNegative("limit", limit);
    Checks.nonNegative("current", current);
    Checks.nonNegative("remaining", remaining);
    Checks.nonNegative("resetMillis", resetMillis);
  }
}
