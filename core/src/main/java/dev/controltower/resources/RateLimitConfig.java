package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * The rate limits that apply to one (user, endpoint) pair: how many requests each sliding window
 * admits.
 *
 * <p>Every limit counts requests. A value of {@code 0} disables that window (the design document's
 * "{@code <= 0} is disabled"); a negative value is rejected, so that a typo never silently means
 * "unlimited". A config whose four limits are all {@code 0} limits nothing, on purpose.
 *
 * <ul>
 *   <li>{@code requestsPerMinute}: requests admitted in any 60 s window; default 60.
 *   <li>{@code requestsPerHour}: requests admitted in any 3,600 s window; default 1,000.
 *   <li>{@code requestsPerDay}: requests admitted in any 86,400 s window; default 10,000.
 *   <li>{@code burstSize}: requests admitted in any 1 s window; default 0 (no burst window).
 * </ul>
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param requestsPerMinute limit of the minute window, {@code >= 0}, 0 = disabled
 * @param requestsPerHour limit of the hour window, {@code >= 0}, 0 = disabled
 * @param requestsPerDay limit of the day window, {@code >= 0}, 0 = disabled
 * @param burstSize limit of the one-second burst window, {@code >= 0}, 0 = disabled
 */
public record RateLimitConfig(int requestsPerMinute, int requestsPerHour, int requestsPerDay, int burstSize) {

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
  }

  /** The design document's defaults: 60 per minute, 1,000 per hour, 10,000 per day, no burst window. */
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
   * The limit of one window of this config.
   *
   * @param type the window
   * @return its limit, 0 when disabled
   */
  public int limitFor(LimitType type) {
    return switch (type) {
      case BURST -> burstSize;
      case MINUTE -> requestsPerMinute;
      case HOUR -> requestsPerHour;
      case DAY -> requestsPerDay;
    };
  }

  /** Whether no window is enabled, so that this config admits everything. */
  public boolean isUnlimited() {
    return requestsPerMinute == 0 && requestsPerHour == 0 && requestsPerDay == 0 && burstSize == 0;
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

    private Builder(RateLimitConfig from) {
      this.requestsPerMinute = from.requestsPerMinute;
      this.requestsPerHour = from.requestsPerHour;
      this.requestsPerDay = from.requestsPerDay;
      this.burstSize = from.burstSize;
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

    /** The config. */
    public RateLimitConfig build() {
      return new RateLimitConfig(requestsPerMinute, requestsPerHour, requestsPerDay, burstSize);
    }
  }
}
