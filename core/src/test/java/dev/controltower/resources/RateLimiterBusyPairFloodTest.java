package dev.controltower.resources;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A pair in active use, below its limit, while another thread invents keys to push it out of the
 * cache, on a frozen clock: the pair must not forget its counts, so it gets exactly its limit. Most of
 * its requests are claimed without the store (see WindowState), which must still keep the pair: the
 * store is touched on a cadence independent of the limit, and a pair evicted by size while busy is
 * kept in a reserve. Before that, the pair was evicted far more often than with every request going
 * through the store: up to 99 of 50 and 48 of 20 admitted.
 */
class RateLimiterBusyPairFloodTest {

  @Test
  void checkRateLimit_floodOfInventedKeys_busyPairBelowItsLimitKeepsItsCounts() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      int[][] cases = {{50, 1_000}, {20, 200}};
      for (int[] c : cases) {
        int limit = c[0];
        int bound = c[1];
        for (int run = 0; run < 20; run++) {
          RateLimiter limiter = RateLimiter.builder()
              .defaultConfig(RateLimitConfig.builder().requestsPerMinute(limit).requestsPerHour(0).requestsPerDay(0).build())
              .clock(FakeClock.atSeconds(100)).maximumKeys(bound).build();
          // The pair is in use (two requests) before the flood starts.
          int admitted = 0;
          for (int i = 0; i < 2; i++) {
            if (limiter.checkRateLimit("hot", "/api/x").allowed()) {
              admitted++;
            }
          }
          AtomicBoolean flooding = new AtomicBoolean(true);
          CountDownLatch start = new CountDownLatch(1);
          List<Future<Integer>> users = new ArrayList<>();
          for (int t = 0; t < 2; t++) {
            users.add(pool.submit(() -> {
              start.await();
              int mine = 0;
              for (int i = 0; i < limit + 10; i++) {
                if (limiter.checkRateLimit("hot", "/api/x").allowed()) {
                  mine++;
                }
                LockSupport.parkNanos(200_000);
              }
              return mine;
            }));
          }
          int runIndex = run;
          Future<?> flood = pool.submit(() -> {
            start.await();
            for (int i = 0; flooding.get() && i < 2_000_000; i++) {
              limiter.checkRateLimit("sock-" + runIndex + "-" + i, "/api/x");
            }
            return null;
          });
          start.countDown();
          for (Future<Integer> f : users) {
            admitted += f.get();
          }
          flooding.set(false);
          flood.get();
          assertThat(admitted).as("limit %d, bound %d, run %d", limit, bound, run).isEqualTo(limit);
          limiter.cleanUp();
          assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(bound);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Keeping busy pairs must not cost the exhausted ones their place: a flood of invented keys with two
   * requests each (pairs "in use", which anyone can make cheaply) must not push an exhausted pair out
   * of the parked reserve. With busy pairs parked alongside exhausted ones, this admitted up to 16 of 5.
   */
  @Test
  void checkRateLimit_floodOfTwoRequestKeys_exhaustedPairStaysRejected() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int bound : new int[] {100, 1_000}) {
        for (int run = 0; run < 4; run++) {
          RateLimiter limiter = RateLimiter.builder()
              .defaultConfig(RateLimitConfig.builder().requestsPerMinute(5).build())
              .clock(FakeClock.atSeconds(100)).maximumKeys(bound).build();
          int admitted = 0;
          for (int i = 0; i < 5; i++) {
            if (limiter.checkRateLimit("attacker", "/api/x").allowed()) {
              admitted++;
            }
          }
          AtomicBoolean flooding = new AtomicBoolean(true);
          int runIndex = run;
          Future<?> flood = pool.submit(() -> {
            for (int i = 0; flooding.get() && i < 5_000_000; i++) {
              String user = "sock-" + runIndex + "-" + i;
              limiter.checkRateLimit(user, "/api/x");
              limiter.checkRateLimit(user, "/api/x");
            }
            return null;
          });
          Thread.sleep(30); // the flood fills the store and the reserves first
          for (int i = 0; i < 1_500; i++) {
            if (limiter.checkRateLimit("attacker", "/api/x").allowed()) {
              admitted++;
            }
            LockSupport.parkNanos(50_000);
          }
          flooding.set(false);
          flood.get();
          assertThat(admitted).as("bound %d, run %d", bound, run).isEqualTo(5);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
