package dev.controltower.spi.kit;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import java.util.SplittableRandom;
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
 * time, including when the threads race to create the key; with random costs, never more than the
 * limit, and every admitted cost counted.
 */
public abstract class ConcurrencyContract extends StoreContract {
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
    RateLimiter limiter = limiter(new RateLimitConfig(limit, 0, 0, 0), frozen);
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

  @ParameterizedTest(name = "limit={0} threads={1}")
  @MethodSource("limitsAndThreads")
  void checkRateLimitCost_threadsRaceWithRandomCosts_admitAtMostTheLimitAndLoseNothing(int limit, int threads)
      throws Exception {
    FakeClock frozen = FakeClock.atSeconds(1_000);
    RateLimiter limiter = limiter(new RateLimitConfig(limit, 0, 0, 0), frozen);
    int attemptsPerThread = limit / threads + 4;
    for (int rep = 0; rep < REPETITIONS / 4; rep++) {
      String key = "user-" + rep;
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Long>> admitted = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long seed = rep * 100L + t;
        admitted.add(pool.submit(() -> {
          SplittableRandom random = new SplittableRandom(seed);
          start.await();
          long cost = 0;
          for (int i = 0; i < attemptsPerThread; i++) {
            long c = 1 + random.nextInt(Math.max(1, limit / 4 + 1));
            if (limiter.checkRateLimit(key, "/e", c).allowed()) {
              cost += c;
            }
          }
          return cost;
        }));
      }
      start.countDown();
      long total = 0;
      for (Future<Long> f : admitted) {
        total += f.get();
      }
      assertThat(total).as("repetition %d", rep).isLessThanOrEqualTo(limit).isPositive();
      assertThat(limiter.getUsage(key, "/e").get(LimitType.MINUTE).current()).as("counted").isEqualTo(total);
    }
  }
}
