package dev.controltower.spi;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import java.util.Arrays;
import java.util.Objects;

/**
 * The compiled form of one {@link RateLimitConfig}: its enabled windows, in check order, each with its
 * length, bucket length and limit. What a {@link WindowStore} counts a pair with. Window {@code i} of a
 * plan is the {@code i}-th entry of every per-window array in an {@link Outcome} or {@link WindowReading}.
 *
 * <p>Immutable and thread-safe. The limiter compiles each config once and hands the same plan to the
 * store on every check, so a store may compare plans by identity to notice a config change.
 */
public final class WindowPlan {
  private static final LimitType[] TYPES = LimitType.values();

  private final RateLimitConfig config;
  private final int bucketCount;
  private final LimitType[] windows;
  private final long[] limits;
  /** Limit per {@link LimitType} ordinal, 0 where disabled. */
  private final long[] limitByType;
  private final long retainMillis;

  private WindowPlan(RateLimitConfig config, int bucketCount) {
    this.config = config;
    this.bucketCount = bucketCount;
    int n = 0;
    for (LimitType type : TYPES) {
      if (config.limitFor(type) > 0) {
        n++;
      }
    }
    this.windows = new LimitType[n];
    this.limits = new long[n];
    this.limitByType = new long[TYPES.length];
    int i = 0;
    long longest = 0;
    for (LimitType type : TYPES) {
      long limit = config.limitFor(type);
      if (limit > 0) {
        windows[i] = type;
        limits[i] = limit;
        limitByType[type.ordinal()] = limit;
        longest = Math.max(longest, type.windowMillis());
        i++;
      }
    }
    // A plan with no window keeps the minute's history briefly (a config may enable windows later).
    long kept = longest == 0 ? LimitType.MINUTE.windowMillis() : longest;
    this.retainMillis = kept + kept / bucketCount;
  }

  /**
   * Compiles {@code config} for windows of {@code bucketCount} buckets.
   *
   * @throws NullPointerException if {@code config} is null
   * @throws IllegalArgumentException if {@code bucketCount} does not divide 1,000
   */
  public static WindowPlan of(RateLimitConfig config, int bucketCount) {
    Objects.requireNonNull(config, "config must not be null");
    if (bucketCount < 1 || 1000 % bucketCount != 0) {
      throw new IllegalArgumentException("bucketCount must be a divisor of 1000 but was " + bucketCount);
    }
    return new WindowPlan(config, bucketCount);
  }

  /** The config this plan was compiled from. */
  public RateLimitConfig config() {
    return config;
  }

  /** Buckets per window. */
  public int bucketCount() {
    return bucketCount;
  }

  /** How many windows are enabled. */
  public int size() {
    return windows.length;
  }

  /** Whether no window is enabled: everything is admitted, nothing needs counting. */
  public boolean isEmpty() {
    return windows.length == 0;
  }

  /** Window {@code i}, in check order (burst, minute, hour, day). */
  public LimitType type(int i) {
    return windows[i];
  }

  /** Window {@code i}'s limit, {@code >= 1}. */
  public long limit(int i) {
    return limits[i];
  }

  /** Window {@code i}'s length in ms. */
  public long windowMillis(int i) {
    return windows[i].windowMillis();
  }

  /** The length of one bucket of window {@code i} in ms. */
  public long bucketMillis(int i) {
    return windows[i].windowMillis() / bucketCount;
  }

  /** The limit of {@code type}'s window, 0 when it is disabled. */
  public long limitOf(LimitType type) {
    return limitByType[type.ordinal()];
  }

  /** The index of {@code type}'s window in this plan, or -1 when it is disabled. */
  public int indexOf(LimitType type) {
    for (int i = 0; i < windows.length; i++) {
      if (windows[i] == type) {
        return i;
      }
    }
    return -1;
  }

  /**
   * How long a pair must be kept after its latest admission so that nothing it counted is forgotten:
   * the longest enabled window plus one of its buckets (a request counts for at most that long).
   */
  public long retainMillis() {
    return retainMillis;
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("WindowPlan[");
    for (int i = 0; i < windows.length; i++) {
      s.append(i == 0 ? "" : ", ").append(windows[i].wireName()).append('=').append(limits[i]);
    }
    return s.append("; buckets=").append(bucketCount).append(']').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WindowPlan p && bucketCount == p.bucketCount && Arrays.equals(windows, p.windows)
        && Arrays.equals(limits, p.limits);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(limits) + bucketCount;
  }
}
