package dev.controltower.resources;

import java.time.Duration;

/**
 * The limits of a {@link RateLimitConfig}: the request windows in the order in which they are checked
 * ({@link #BURST} to {@link #DAY}), the token windows ({@link #TOKENS_MINUTE} to {@link #TOKENS_DAY}),
 * and {@link #CONCURRENCY}, which has no window. Code that walks the request windows must stop at
 * {@link #DAY} ({@link #isRequestWindow()}).
 */
public enum LimitType {
  /** One second; limited by {@link RateLimitConfig#burstSize()}. */
  BURST("burst", 1_000L),
  /** Sixty seconds; limited by {@link RateLimitConfig#requestsPerMinute()}. */
  MINUTE("minute", 60_000L),
  /** One hour; limited by {@link RateLimitConfig#requestsPerHour()}. */
  HOUR("hour", 3_600_000L),
  /** One day (86,400 s); limited by {@link RateLimitConfig#requestsPerDay()}. */
  DAY("day", 86_400_000L),
  /** Sixty seconds of LLM tokens; limited by {@link RateLimitConfig#tokensPerMinute()}. */
  TOKENS_MINUTE("tokens-minute", 60_000L),
  /** One hour of LLM tokens; limited by {@link RateLimitConfig#tokensPerHour()}. */
  TOKENS_HOUR("tokens-hour", 3_600_000L),
  /** One day of LLM tokens; limited by {@link RateLimitConfig#tokensPerDay()}. */
  TOKENS_DAY("tokens-day", 86_400_000L),
  /**
   * Requests of the pair running at once; limited by {@link RateLimitConfig#maxConcurrentRequests()}.
   * Not a window: {@link #windowMillis()} is 0.
   */
  CONCURRENCY("concurrency", 0L);

  private static final LimitType[] REQUEST_WINDOWS = {BURST, MINUTE, HOUR, DAY};
  private static final LimitType[] TOKEN_WINDOWS = {TOKENS_MINUTE, TOKENS_HOUR, TOKENS_DAY};

  private final String wireName;
  private final long windowMillis;

  LimitType(String wireName, long windowMillis) {
    this.wireName = wireName;
    this.windowMillis = windowMillis;
  }

  /**
   * The wire name: {@code "burst"}, {@code "minute"}, {@code "hour"}, {@code "day"},
   * {@code "tokens-minute"}, {@code "tokens-hour"}, {@code "tokens-day"} or {@code "concurrency"}.
   */
  public String wireName() {
    return wireName;
  }

  /** Whether this is one of the request windows, {@link #BURST} to {@link #DAY}. */
  public boolean isRequestWindow() {
    return ordinal() <= DAY.ordinal();
  }

  /** Whether this is one of the token windows, {@link #TOKENS_MINUTE} to {@link #TOKENS_DAY}. */
  public boolean isTokenWindow() {
    return this == TOKENS_MINUTE || this == TOKENS_HOUR || this == TOKENS_DAY;
  }

  /** The request windows in check order: burst, minute, hour, day (a new array each call). */
  public static LimitType[] requestWindows() {
    return REQUEST_WINDOWS.clone();
  }

  /** The token windows in order: tokens-minute, tokens-hour, tokens-day (a new array each call). */
  public static LimitType[] tokenWindows() {
    return TOKEN_WINDOWS.clone();
  }

  /** The window's length; zero for {@link #CONCURRENCY}. */
  public Duration window() {
    return Duration.ofMillis(windowMillis);
  }

  /** The window's length in milliseconds; 0 for {@link #CONCURRENCY}. */
  public long windowMillis() {
    return windowMillis;
  }

  /** The window's length in whole seconds. */
  public long windowSeconds() {
    return windowMillis / 1_000L;
  }
}
