package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * The rate limits that apply to one (user, endpoint) pair: how many requests each sliding window
 * admits, how many LLM tokens each token window admits, and how many requests may run at once.
 *
 * <p>A value of {@code 0} disables that limit (the design document's "{@code <= 0} is disabled"); a
 * negative value is rejected, so that a typo never silently means "unlimited". A config whose limits
 * are all {@code 0} limits nothing, on purpose.
 *
 * <ul>
 *   <li>{@code requestsPerMinute}: requests admitted in any 60 s window; default 60.
 *   <li>{@code requestsPerHour}: requests admitted in any 3,600 s window; default 1,000.
 *   <li>{@code requestsPerDay}: requests admitted in any 86,400 s window; default 10,000.
 *   <li>{@code burstSize}: requests admitted in any 1 s window; default 0 (no burst window).
 *   <li>{@code tokensPerMinute}, {@code tokensPerHour}, {@code tokensPerDay}: LLM tokens counted in any
 *       60 s, 3,600 s and 86,400 s window (same buckets and rule as the request windows); default 0
 *       (disabled). See {@link RateLimiter#reserveTokens}.
 *   <li>{@code maxConcurrentRequests}: requests of the pair admitted and not yet finished at once;
 *       default 0 (unlimited).
 * </ul>
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param requestsPerMinute limit of the minute window, {@code >= 0}, 0 = disabled
 * @param requestsPerHour limit of the hour window, {@code >= 0}, 0 = disabled
 * @param requestsPerDay limit of the day window, {@code >= 0}, 0 = disabled
 * @param burstSize limit of the one-second burst window, {@code >= 0}, 0 = disabled
 * @param tokensPerMinute tokens per 60 s window, {@code >= 0}, 0 = disabled
 * @param tokensPerHour tokens per 3,600 s window, {@code >= 0}, 0 = disabled
 * @param tokensPerDay tokens per 86,400 s window, {@code >= 0}, 0 = disabled
 * @param maxConcurrentRequests requests running at once, {@code >= 0}, 0 = unlimited
 */
public record RateLimitConfig(int requestsPerMinute, int requestsPerHour, int requestsPerDay, int burstSize,
    long tokensPerMinute, long tokensPerHour, long tokensPerDay, int maxConcurrentRequests) {

  private static final RateLimitConfig DEFAULTS = new RateLimitConfig(60, 1000, 10000, 0);

  /**
   * Validates every limit.
   *
   * @throws IllegalArgumentException if a limit is negative
   */
  public RateLimitConfig {
    Checks.nonNegative("requestsPerMinute", requestsPerMinute);
    Checks.nonNegative("requestsPerHour", requestsPerHour);
    Checks.nonNegative("requestsPerDay", requestsPerDay);
    Checks.nonNegative("burstSize", burstSize);
    Checks.nonNegative("tokensPerMinute", tokensPerMinute);
    Checks.nonNegative("tokensPerHour", tokensPerHour);
    Checks.nonNegative("tokensPerDay", tokensPerDay);
    Checks.nonNegative("maxConcurrentRequests", maxConcurrentRequests);
  }

  /**
   * The design document's four request limits, with no token window and no concurrency limit.
   *
   * @throws IllegalArgumentException if a limit is negative
   */
  public RateLimitConfig(int requestsPerMinute, int requestsPerHour, int requestsPerDay, int burstSize) {
    this(requestsPerMinute, requestsPerHour, requestsPerDay, burstSize, 0, 0, 0, 0);
  }

  /**
   * The design document's defaults: 60 per minute, 1,000 per hour, 10,000 per day, no burst window,
   * no token window, no concurrency limit.
   */
  public static RateLimitConfig defaults() {
    return DEFAULTS;
  }

  /** A builder whose unset fields take the values of {@link #defaults()}. */
  public static Builder builder() {
    return new Builder(DEFAULTS);
  }

  /** A builder that starts from this config's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The limit of one request window, or of {@link LimitType#CONCURRENCY}, of this config.
   *
   * @param type the window
   * @return its limit, 0 when disabled
   * @throws IllegalArgumentException for a token window, whose limit is a {@code long}: use
   *     {@link #limit(LimitType)}
   */
  public int limitFor(LimitType type) {
    return switch (type) {
      case BURST -> burstSize;
      case MINUTE -> requestsPerMinute;
      case HOUR -> requestsPerHour;
      case DAY -> requestsPerDay;
      case CONCURRENCY -> maxConcurrentRequests;
      case TOKENS_MINUTE, TOKENS_HOUR, TOKENS_DAY -> throw new IllegalArgumentException(
          "type must be a request window or concurrency but was " + type + ": token limits are longs, use limit()");
    };
  }

  /**
   * The limit of any {@link LimitType} of this config.
   *
   * @return its limit, 0 when disabled
   */
  public long limit(LimitType type) {
    return switch (type) {
      case TOKENS_MINUTE -> tokensPerMinute;
      case TOKENS_HOUR -> tokensPerHour;
      case TOKENS_DAY -> tokensPerDay;
      default -> limitFor(type);
    };
  }

  /** Whether some token window is enabled. */
  public boolean hasTokenWindows() {
    return tokensPerMinute > 0 || tokensPerHour > 0 || tokensPerDay > 0;
  }

  /** Whether no limit is enabled, so that this config admits everything and counts nothing. */
  public boolean isUnlimited() {
    return requestsPerMinute == 0 && requestsPerHour == 0 && requestsPerDay == 0 && burstSize == 0
        && !hasTokenWindows() && maxConcurrentRequests == 0;
  }

  /**
   * Builds a {@link RateLimitConfig}. Not thread-safe; {@link #build()} copies its state, and checks
   * every value, so a builder can be reused.
   */
  public static final class Builder {
    private int requestsPerMinute;
    private int requestsPerHour;
    private int requestsPerDay;
    private int burstSize;
    private long tokensPerMinute;
    private long tokensPerHour;
    private long tokensPerDay;
    private int maxConcurrentRequests;

    private Builder(RateLimitConfig from) {
      this.requestsPerMinute = from.requestsPerMinute;
      this.requestsPerHour = from.requestsPerHour;
      this.requestsPerDay = from.requestsPerDay;
      this.burstSize = from.burstSize;
      this.tokensPerMinute = from.tokensPerMinute;
      this.tokensPerHour = from.tokensPerHour;
      this.tokensPerDay = from.tokensPerDay;
      this.maxConcurrentRequests = from.maxConcurrentRequests;
    }

    /** Requests per 60 s window; 0 disables it; default 60. */
    public Builder requestsPerMinute(int value) {
      this.requestsPerMinute = Checks.nonNegative("requestsPerMinute", value);
      return this;
    }

    /** Requests per 3,600 s window; 0 disables it; default 1,000. */
    public Builder requestsPerHour(int value) {
      this.requestsPerHour = Checks.nonNegative("requestsPerHour", value);
      return this;
    }

    /** Requests per 86,400 s window; 0 disables it; default 10,000. */
    public Builder requestsPerDay(int value) {
      this.requestsPerDay = Checks.nonNegative("requestsPerDay", value);
      return this;
    }

    /** Requests per 1 s window; 0 (the default) disables it. */
    public Builder burstSize(int value) {
      this.burstSize = Checks.nonNegative("burstSize", value);
      return this;
    }

    /** LLM tokens per 60 s window; 0 (the default) disables it. */
    public Builder tokensPerMinute(long value) {
      this.tokensPerMinute = Checks.nonNegative("tokensPerMinute", value);
      return this;
    }

    /** LLM tokens per 3,600 s window; 0 (the default) disables it. */
    public Builder tokensPerHour(long value) {
      this.tokensPerHour = Checks.nonNegative("tokensPerHour", value);
      return this;
    }

    /** LLM tokens per 86,400 s window; 0 (the default) disables it. */
    public Builder tokensPerDay(long value) {
      this.tokensPerDay = Checks.nonNegative("tokensPerDay", value);
      return this;
    }

    /** Requests of the pair running at once; 0 (the default) is unlimited. */
    public Builder maxConcurrentRequests(int value) {
      this.maxConcurrentRequests = Checks.nonNegative("maxConcurrentRequests", value);
      return this;
    }

    /** The config. */
    public RateLimitConfig build() {
      return new RateLimitConfig(requestsPerMinute, requestsPerHour, requestsPerDay, burstSize, tokensPerMinute,
          tokensPerHour, tokensPerDay, maxConcurrentRequests);
    }
  }
}
