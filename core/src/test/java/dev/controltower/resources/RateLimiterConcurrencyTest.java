package dev.controltower.resources;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Many threads hammering one fresh key on a frozen clock: exactly {@code limit} are admitted, every
 * time, including when the threads race to create the key.
 */
class RateLimiterConcurrencyTest {
  private static final int REPETITIONS = 200;
  private static ExecutorService pool;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(32);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  static Stream<Arguments> limitsAndThreads() {
    List<Arguments> cases = new ArrayList<>();
    for (int limit : new int[] {1, 10, 1000}) {
      for (int threads : new int[] {2, 8, 32}) {
        cases.add(Arguments.of(limit, threads));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "limit={0} threads={1}")
  @MethodSource("limitsAndThreads")
  void checkRateLimit_threadsRaceOnFreshKey_admitExactlyTheLimit(int limit, int threads) throws Exception {
    FakeClock frozen = FakeClock.atSeconds(1_000);
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(limit, 0, 0, 0)).clock(frozen).build();
    int attemptsPerThread = 2 * limit / threads + 2;
    for (int rep = 0; rep < REPETITIONS; rep++) {
      String key = "user-" + rep;
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> admitted = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        admitted.add(pool.submit(() -> {
          start.await();
          int n = 0;
          for (int i = 0; i < attemptsPerThread; i++) {
            if (limiter.checkRateLimit(key, "/e").allowed()) {
              n++;
            }
          }
          return n;
        }));
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> f : admitted) {
        total += f.get();
      }
      assertThat(total).as("repetition %d", rep).isEqualTo(limit);
      assertThat(limiter.getUsage(key, "/e").get(LimitType.MINUTE).current()).isEqualTo(limit);
    }
  }
}
