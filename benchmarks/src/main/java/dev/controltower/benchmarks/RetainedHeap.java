package dev.controltower.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import io.github.bucket4j.Bucket;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Locale;

/**
 * Retained heap per tracked (user, endpoint) pair, for the kit and for Bucket4j in Caffeine.
 *
 * <p>Each contestant runs in a JVM of its own ({@code java -cp benchmarks.jar
 * dev.controltower.benchmarks.RetainedHeap controltower|controltower-history|bucket4j [keys]}): measure the used heap after
 * full collections, track {@code keys} pairs (one allowed check each, the default three windows), drop
 * everything but the limiter, collect again, and divide the difference by the number of pairs. Key
 * strings are included: every pair is made of fresh user and endpoint strings, as a servlet container
 * would hand them over, and whatever the limiter keeps of them counts.
 *
 * <p>{@code controltower} checks each pair once. {@code controltower-history} checks each pair twice,
 * the second time 8,640 s later (the next bucket of every window), so that every pair holds explicit
 * per-bucket counts: the kit's larger, steady-state layout. A Bucket4j bucket is the same size either
 * way.
 */
public final class RetainedHeap {
  private RetainedHeap() {}

  public static void main(String[] args) throws InterruptedException {
    String who = args.length > 0 ? args[0] : "controltower";
    int keys = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;

    long before = usedAfterGc();
    Object retained;
    switch (who) {
      case "controltower" -> {
        RateLimiter limiter = Peers.controlTower(Peers.boundHolding(keys));
        for (int i = 0; i < keys; i++) {
          if (!limiter.checkRateLimit(user(i), endpoint(i)).allowed()) {
            throw new AssertionError("refused " + i);
          }
        }
        limiter.cleanUp();
        if (limiter.trackedKeys() != keys) {
          throw new AssertionError("tracked " + limiter.trackedKeys() + " of " + keys);
        }
        retained = limiter;
      }
      case "controltower-history" -> {
        // Every pair also counted in an earlier bucket of every window: the slot arrays exist.
        long[] now = {1_700_000_000_000L};
        RateLimiter limiter = RateLimiter.builder()
            .defaultConfig(new RateLimitConfig(Peers.HIGH_LIMIT, Peers.HIGH_LIMIT, Peers.HIGH_LIMIT, 0))
            .maximumKeys(Peers.boundHolding(keys))
            .clock(new FixedClock(now))
            .build();
        for (int i = 0; i < keys; i++) {
          limiter.checkRateLimit(user(i), endpoint(i));
        }
        now[0] += LimitType.DAY.windowMillis() / 10;
        for (int i = 0; i < keys; i++) {
          if (!limiter.checkRateLimit(user(i), endpoint(i)).allowed()) {
            throw new AssertionError("refused " + i);
          }
        }
        limiter.cleanUp();
        if (limiter.trackedKeys() != keys) {
          throw new AssertionError("tracked " + limiter.trackedKeys() + " of " + keys);
        }
        retained = limiter;
      }
      case "bucket4j" -> {
        Cache<String, Bucket> cache = Peers.bucket4jCache();
        for (int i = 0; i < keys; i++) {
          if (!Peers.bucket4jCheck(cache, user(i), endpoint(i))) {
            throw new AssertionError("refused " + i);
          }
        }
        cache.cleanUp();
        if (cache.estimatedSize() != keys) {
          throw new AssertionError("tracked " + cache.estimatedSize() + " of " + keys);
        }
        retained = cache;
      }
      default -> throw new IllegalArgumentException(
          "controltower, controltower-history or bucket4j, not " + who);
    }
    long after = usedAfterGc();
    double perKey = (after - before) / (double) keys;
    System.out.printf(Locale.ROOT, "%s keys=%d retained=%d bytes perKey=%.1f%n",
        who, keys, after - before, perKey);
    // Keep the limiter reachable until the second measurement is done.
    if (retained.hashCode() == 42) {
      System.out.println();
    }
  }

  /** A clock that reads a cell the measurement moves. */
  private record FixedClock(long[] now) implements InstantSource {
    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now[0]);
    }

    @Override
    public long millis() {
      return now[0];
    }
  }

  /** Fresh strings per pair, the same for both contestants. */
  static String user(int i) {
    return new String("user-" + (i / 10) + "-" + (i * 7919 % 1000));
  }

  static String endpoint(int i) {
    return new String("/api/v1/resource-" + (i % 10));
  }

  private static long usedAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
