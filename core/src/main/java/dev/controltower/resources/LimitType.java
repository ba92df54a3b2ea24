package dev.controltower.resources;

import java.time.Duration;

/**
 * The sliding windows of a {@link RateLimitConfig}, in the order in which they are checked.
 */
public enum LimitType {
  /** One second; limited by {@link RateLimitConfig#burstSize()}. */
  BURST("burst", 1_000L),
  /** Sixty seconds; limited by {@link RateLimitConfig#requestsPerMinute()}. */
  MINUTE("minute", 60_000L),
  /** One hour; limited by {@link RateLimitConfig#requestsPerHour()}. */
  HOUR("hour", 3_600_000L),
  /** One day (86,400 s); limited by {@link RateLimitConfig#requestsPerDay()}. */
  DAY("day", 86_400_000L);

  private final String wireName;
  private final long windowMillis;

  LimitType(String wireName, long windowMillis) {
    this.wireName = wireName;
    this.windowMillis = windowMillis;
  }

  /** The design document's name: {@code "burst"}, {@code "minute"}, {@code "hour"} or {@code "day"}. */
  public String wireName() {
    return wireName;
  }

  /** The window's length. */
  public Duration window() {
    return Duration.ofMillis(windowMillis);
  }

  /** The window's length in milliseconds. */
  public long windowMillis() {
    return windowMillis;
  }

  /** The window's length in whole seconds. */
  public long windowSeconds() {
    return windowMillis / 1_000L;
  }
}
