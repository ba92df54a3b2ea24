package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * The answer of {@link RateLimiter#checkRateLimit(String, String, boolean)}: whether the request is
 * admitted and, if not, which window refused it and for how long.
 *
 * <p>When {@code allowed}, {@code limitType} and {@code reason} are {@code null} and
 * {@code retryAfterSeconds} is 0; {@code current} and {@code limit} describe the enabled window with the
 * least room left (the one {@code remaining} comes from), and are both 0 when no window is enabled.
 * When rejected, {@code limitType} names the refusing window whose slot frees last, {@code current} and
 * {@code limit} are that window's, {@code remaining} is 0, and a client that waits
 * {@code retryAfterSeconds} and retries, with no other traffic on its key, is admitted.
 *
 * @param allowed whether the request is admitted (and, unless a dry run, counted)
 * @param limitType the refusing window, {@code null} when allowed
 * @param current requests counted in that window, before this one
 * @param limit that window's limit
 * @param remaining requests still admitted by every enabled window after this one; {@link Long#MAX_VALUE}
 *     when no window is enabled
 * @param retryAfterSeconds seconds until a retry is admitted, 0 when allowed
 * @param reason a sentence for people, such as {@code "Rate limit exceeded: 3/3 requests per minute"}
 */
public record RateLimitResult(boolean allowed, LimitType limitType, long current, long limit,
    long remaining, double retryAfterSeconds, String reason) {

  /**
   * Validates the combination of fields.
   *
   * @throws IllegalArgumentException if a rejection lacks its window or an admission names one
   */
  public RateLimitResult {
    Checks.nonNegative("current", current);
    Checks.nonNegative("limit", limit);
    Checks.nonNegative("remaining", remaining);
    Checks.nonNegative("retryAfterSeconds", retryAfterSeconds);
    if (allowed && (limitType != null || reason != null || retryAfterSeconds != 0)) {
      throw new IllegalArgumentException(
          "an allowed result must have no limitType, no reason and retryAfterSeconds 0");
    }
    if (!allowed && (limitType == null || reason == null || remaining != 0)) {
      throw new IllegalArgumentException(
          "a rejected result must name its limitType and reason and have remaining 0");
    }
  }

  /** An admission. */
  public static RateLimitResult allowed(long current, long limit, long remaining) {
    return new RateLimitResult(true, null, current, limit, remaining, 0.0, null);
  }

  /** A rejection by {@code type}, with the design document's reason sentence. */
  public static RateLimitResult rejected(LimitType type, long current, long limit, double retryAfterSeconds) {
    return new RateLimitResult(false, type, current, limit, 0, retryAfterSeconds,
        "Rate limit exceeded: " + current + "/" + limit + " requests per " + type.wireName());
  }

  /** The design document's name for {@code !allowed()}. */
  public boolean exceeded() {
    return !allowed;
  }
}
