package dev.controltower.spi;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import java.util.Arrays;
import java.util.Objects;

/**
 * The compiled form of one {@link RateLimitConfig}: its enabled request windows, in check order, each
 * with its length, bucket length and limit; beside them its enabled token windows (tokens-minute, -hour,
 * -day, {@code long} limits) and its concurrency limit. What a {@link WindowStore} counts a pair with.
 * Window {@code i} of a plan is the {@code i}-th entry of every per-window array in an {@link Outcome}
 * or {@link WindowReading} about requests.
 *
 * <p>Token windows are numbered apart ({@link #tokenType(int)}, ...) so that a plan without them is the
 * request windows' plan it always was. Where one array describes both (a refused {@link
 * WindowStore#acquire} of a plan with token windows), the token windows follow the request windows: entry
 * {@code size() + j} is token window {@code j} ({@link #checkedType(int)}). A token reservation's
 * {@link Outcome} is indexed by token window alone.
 *
 * <p>Immutable and thread-safe. The limiter compiles each config once and hands the same plan to the
 * store on every check, so a store may compare plans by identity to notice a config change.
 */
public final class WindowPlan {
  private static final LimitType[] TYPES = LimitType.requestWindows();
  private static final LimitType[] TOKEN_TYPES = LimitType.tokenWindows();

  private final RateLimitConfig config;
  private final int bucketCount;
  private final LimitType[] windows;
  private final long[] limits;
  /** Limit per {@link LimitType} ordinal, 0 where disabled. */
  private final long[] limitByType;
  private final LimitType[] tokenWindows;
  private final long[] tokenLimits;
  private final int maxConcurrentRequests;
  private final long retainMillis;

  private WindowPlan(RateLimitConfig config, int bucketCount) {
    this.config = config;
    this.bucketCount = bucketCount;
    int n = 0;
    for (LimitType type : TYPES) {
      if (config.limit(type) > 0) {
        n++;
      }
    }
    int t = 0;
    for (LimitType type : TOKEN_TYPES) {
      if (config.limit(type) > 0) {
        t++;
      }
    }
    this.tokenWindows = new LimitType[t];
    this.tokenLimits = new long[t];
    this.maxConcurrentRequests = config.maxConcurrentRequests();
    this.windows = new LimitType[n];
    this.limits = new long[n];
    this.limitByType = new long[LimitType.values().length];
    int i = 0;
    long longest = 0;
    for (LimitType type : TYPES) {
      long limit = config.limit(type);
      if (limit > 0) {
        windows[i] = type;
        limits[i] = limit;
        limitByType[type.ordinal()] = limit;
        longest = Math.max(longest, type.windowMillis());
        i++;
      }
    }
    int j = 0;
    for (LimitType type : TOKEN_TYPES) {
      long limit = config.limit(type);
      if (limit > 0) {
        tokenWindows[j] = type;
        tokenLimits[j] = limit;
        limitByType[type.ordinal()] = limit;
        longest = Math.max(longest, type.windowMillis());
        j++;
      }
    }
    limitByType[LimitType.CONCURRENCY.ordinal()] = maxConcurrentRequests;
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

  /** How many request windows are enabled. */
  public int size() {
    return windows.length;
  }

  /**
   * Whether no request window is enabled. With no token window either ({@link #hasTokenWindows()}),
   * everything is admitted and nothing needs counting.
   */
  public boolean isEmpty() {
    return windows.length == 0;
  }

  /** How many token windows are enabled. */
  public int tokenSize() {
    return tokenWindows.length;
  }

  /** Whether some token window is enabled. */
  public boolean hasTokenWindows() {
    return tokenWindows.length > 0;
  }

  /** Token window {@code j}, in the order tokens-minute, tokens-hour, tokens-day. */
  public LimitType tokenType(int j) {
    return tokenWindows[j];
  }

  /** Token window {@code j}'s limit in tokens, {@code >= 1}. */
  public long tokenLimit(int j) {
    return tokenLimits[j];
  }

  /** Token window {@code j}'s length in ms. */
  public long tokenWindowMillis(int j) {
    return tokenWindows[j].windowMillis();
  }

  /** The length of one bucket of token window {@code j} in ms. */
  public long tokenBucketMillis(int j) {
    return tokenWindows[j].windowMillis() / bucketCount;
  }

  /** How many windows an admission checks: the request windows, then the token windows. */
  public int checkedSize() {
    return windows.length + tokenWindows.length;
  }

  /** Entry {@code i} of the windows an admission checks: request window i, or token window i - size(). */
  public LimitType checkedType(int i) {
    return i < windows.length ? windows[i] : tokenWindows[i - windows.length];
  }

  /** The limit of entry {@code i} of the windows an admission checks. */
  public long checkedLimit(int i) {
    return i < windows.length ? limits[i] : tokenLimits[i - windows.length];
  }

  /** The most requests of a pair running at once; 0 = unlimited. */
  public int maxConcurrentRequests() {
    return maxConcurrentRequests;
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

  /** The limit of {@code type} (any kind), 0 when it is disabled. */
  public long limitOf(LimitType type) {
    return limitByType[type.ordinal()];
  }

  /** The index of token window {@code type} in this plan's token windows, or -1 when it is disabled. */
  public int tokenIndexOf(LimitType type) {
    for (int j = 0; j < tokenWindows.length; j++) {
      if (tokenWindows[j] == type) {
        return j;
      }
    }
    return -1;
  }

  /** The index of request window {@code type} in this plan, or -1 when it is disabled. */
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
   * the longest enabled window (request or token) plus one of its buckets (a request counts for at most
   * that long).
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
    for (int j = 0; j < tokenWindows.length; j++) {
      s.append(windows.length + j == 0 ? "" : ", ").append(tokenWindows[j].wireName()).append('=')
          .append(tokenLimits[j]);
    }
    if (maxConcurrentRequests > 0) {
      s.append(checkedSize() == 0 ? "" : ", ").append("concurrency=").append(maxConcurrentRequests);
    }
    return s.append("; buckets=").append(bucketCount).append(']').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WindowPlan p && bucketCount == p.bucketCount && Arrays.equals(windows, p.windows)
        && Arrays.equals(limits, p.limits) && Arrays.equals(tokenWindows, p.tokenWindows)
        && Arrays.equals(tokenLimits, p.tokenLimits) && maxConcurrentRequests == p.maxConcurrentRequests;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(limits) + Arrays.hashCode(tokenLimits)) + bucketCount + 7 * maxConcurrentRequests;
  }
}
