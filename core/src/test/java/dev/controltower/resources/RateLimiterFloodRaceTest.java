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
import org.junit.jupiter.api.Test;

/**
 * An attacker hammers its own key from several threads while another thread invents keys to push it
 * out of a small cache, on a frozen clock: the attacker's key never gets more than its limit.
 */
class RateLimiterFloodRaceTest {

  @Test
  void checkRateLimit_concurrentFloodOfInventedKeys_neverResetsAnExhaustedKey() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int bound : new int[] {20, 1_000}) {
        for (int run = 0; run < 30; run++) {
          RateLimiter limiter = RateLimiter.builder()
              .defaultConfig(RateLimitConfig.builder().requestsPerMinute(5).build())
              .clock(FakeClock.atSeconds(100)).maximumKeys(bound).build();
          AtomicBoolean flooding = new AtomicBoolean(true);
          CountDownLatch start = new CountDownLatch(1);
          List<Future<Integer>> attackers = new ArrayList<>();
          for (int t = 0; t < 3; t++) {
            attackers.add(pool.submit(() -> {
              start.await();
              int admitted = 0;
              for (int i = 0; i < 3_000; i++) {
                if (limiter.checkRateLimit("attacker", "/api/x").allowed()) {
                  admitted++;
                }
              }
              return admitted;
            }));
          }
          int runIndex = run;
          Future<?> flood = pool.submit(() -> {
            start.await();
            for (int i = 0; flooding.get() && i < 200_000; i++) {
              limiter.checkRateLimit("sock-" + runIndex + "-" + i, "/api/x");
            }
            return null;
          });
          start.countDown();
          int admitted = 0;
          for (Future<Integer> f : attackers) {
            admitted += f.get();
          }
          flooding.set(false);
          flood.get();
          assertThat(admitted).as("bound %d, run %d", bound, run).isEqualTo(5);
          limiter.cleanUp();
          assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(bound);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
