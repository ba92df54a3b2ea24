package dev.controltower.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;

/**
 * The contestants, built the same way by every benchmark and by the heap measurement, so that the
 * figures compare like with like.
 */
final class Peers {
  /** High enough that every call in a benchmark run takes the allow path. */
  static final int HIGH_LIMIT = Integer.MAX_VALUE;

  /** The Caffeine bound both Caffeine-backed limiters use: the kit's default. */
  static final long MAXIMUM_KEYS = 1_000_000L;

  private Peers() {}

  /** The kit's limiter with minute, hour and day windows, all high. */
  static RateLimiter controlTower() {
    return controlTower(MAXIMUM_KEYS);
  }

  /**
   * The kit's limiter with a given bound. The kit keeps 1/16 of its bound as a reserve for pairs at
   * their limit, so {@code maximumKeys(n * 16 / 15)} holds n live pairs, as many as a Caffeine cache
   * of maximum size n, with the same frequency sketch.
   */
  static RateLimiter controlTower(long maximumKeys) {
    return RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(HIGH_LIMIT, HIGH_LIMIT, HIGH_LIMIT, 0))
        .maximumKeys(maximumKeys)
        .build();
  }

  /** {@link #controlTower()} reporting its decisions to {@code listener}. */
  static RateLimiter controlTower(dev.controltower.spi.ControlTowerListener listener) {
    return RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(HIGH_LIMIT, HIGH_LIMIT, HIGH_LIMIT, 0))
        .maximumKeys(MAXIMUM_KEYS)
        .listener(listener)
        .build();
  }

  /** The kit's bound that holds {@code live} pairs before evicting any; see {@link #controlTower(long)}. */
  static long boundHolding(long live) {
    return (live * 16 + 14) / 15;
  }

  /** One Bucket4j bucket with three bandwidths (minute, hour, day), the usual greedy refill. */
  static Bucket bucket4jBucket() {
    return Bucket.builder()
        .addLimit(Bandwidth.builder().capacity(HIGH_LIMIT).refillGreedy(HIGH_LIMIT, Duration.ofMinutes(1)).build())
        .addLimit(Bandwidth.builder().capacity(HIGH_LIMIT).refillGreedy(HIGH_LIMIT, Duration.ofHours(1)).build())
        .addLimit(Bandwidth.builder().capacity(HIGH_LIMIT).refillGreedy(HIGH_LIMIT, Duration.ofDays(1)).build())
        .build();
  }

  /**
   * Bucket4j used the usual way for per-key limits: a Caffeine cache of buckets keyed by
   * {@code user + ":" + endpoint}, bounded and expiring after a day idle.
   */
  static Cache<String, Bucket> bucket4jCache() {
    return Caffeine.newBuilder()
        .maximumSize(MAXIMUM_KEYS)
        .expireAfterAccess(Duration.ofDays(1))
        .build();
  }

  /** {@code cache.get(user + ":" + endpoint, newBucket).tryConsume(cost)}. */
  static boolean bucket4jCheck(Cache<String, Bucket> cache, String user, String endpoint, long cost) {
    return cache.get(user + ":" + endpoint, k -> bucket4jBucket()).tryConsume(cost);
  }

  /** {@code cache.get(user + ":" + endpoint, newBucket).tryConsume(1)}. */
  static boolean bucket4jCheck(Cache<String, Bucket> cache, String user, String endpoint) {
    return cache.get(user + ":" + endpoint, k -> bucket4jBucket()).tryConsume(1);
  }

  /** A cache configured like the Bucket4j peer's, for the floor cost of a Caffeine lookup. */
  static Cache<String, Object> bareCaffeine() {
    return Caffeine.newBuilder()
        .maximumSize(MAXIMUM_KEYS)
        .expireAfterAccess(Duration.ofDays(1))
        .build();
  }
}
