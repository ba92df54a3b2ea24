package dev.controltower.spi.kit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.TokenReservation;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The token budget's guarantees under load, on a fake clock that 32 threads move (each by up to
 * 0.2 s after each reservation) while they reserve and settle, and one more reads the windows
 * as fast as it can: reservations settled with at most what they reserved never push a token window
 * over its limit; with overshooting settles the excess is at most the sum of the overshoots; no count
 * is ever negative; and random single-threaded sequences of every token call (clock steps back
 * included) give the oracle's answers, value for value.
 */
public abstract class TokenPropertyContract extends StoreContract {
  private static final int THREADS = 32;

  private static final RateLimitConfig CONFIG = RateLimitConfig.builder().requestsPerMinute(0).requestsPerHour(0)
      .requestsPerDay(0).tokensPerMinute(20_000).tokensPerHour(1_000_000).build();

  @ParameterizedTest(name = "overshoot={0}")
  @ValueSource(booleans = {false, true})
  void reserveTokens_manyThreadsOnAMovingClock_neverExceedTheLimitBeyondTheOvershoots(boolean overshoot)
      throws Exception {
    FakeClock clock = FakeClock.atMillis(1_700_000_000_000L);
    RateLimiter limiter = limiter(CONFIG, clock);
    AtomicLong overshoots = new AtomicLong();
    AtomicLong highest = new AtomicLong(); // of the minute window, which binds
    AtomicLong lowest = new AtomicLong();
    AtomicLong granted = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS + 2);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long seed = t;
        workers.add(pool.submit(() -> {
          SplittableRandom random = new SplittableRandom(seed);
          start.await();
          for (int i = 0; i < 400; i++) {
            long estimate = 1 + random.nextInt(3_000);
            TokenReservation r = limiter.reserveTokens("agent", "/run", estimate);
            clock.advanceMillis(random.nextInt(200));
            if (!r.granted()) {
              continue;
            }
            granted.incrementAndGet();
            // The count the reservation itself was admitted at: a real reading, seen by every worker.
            highest.accumulateAndGet(r.result().current(), Math::max);
            long actual = random.nextInt((int) estimate + 1);
            if (overshoot && random.nextInt(5) == 0) {
              long over = 1 + random.nextInt(500);
              overshoots.addAndGet(over);
              actual = estimate + over;
            }
            r.settle(actual);
          }
          return null;
        }));
      }
      Future<?> reader = pool.submit(() -> {
        while (!done.get()) {
          var usage = limiter.getUsage("agent", "/run");
          highest.accumulateAndGet(usage.get(LimitType.TOKENS_MINUTE).current(), Math::max);
          lowest.accumulateAndGet(usage.get(LimitType.TOKENS_MINUTE).current(), Math::min);
          lowest.accumulateAndGet(usage.get(LimitType.TOKENS_HOUR).current(), Math::min);
        }
      });
      start.countDown();
      for (Future<?> w : workers) {
        w.get();
      }
      done.set(true);
      reader.get();
    } finally {
      pool.shutdownNow();
    }
    assertThat(granted.get()).as("the load must be granted often").isGreaterThan(200);
    assertThat(lowest.get()).as("no count is ever negative").isGreaterThanOrEqualTo(0);
    if (overshoot) {
      assertThat(overshoots.get()).isPositive();
      assertThat(highest.get()).as("limit + overshoots %d", overshoots.get())
          .isLessThanOrEqualTo(20_000 + overshoots.get());
    } else {
      assertThat(highest.get()).isLessThanOrEqualTo(20_000);
      assertThat(highest.get()).as("the load must reach the limit's neighbourhood").isGreaterThan(15_000);
    }
  }

  @Test
  void tokenCalls_randomSequences_matchTheOracleValueForValue() {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < 30; round++) {
      int buckets = new int[] {1, 4, 10, 25}[random.nextInt(4)];
      RateLimitConfig config = RateLimitConfig.builder().requestsPerMinute(1 + random.nextInt(30)).requestsPerHour(0)
          .requestsPerDay(random.nextBoolean() ? 0 : 200).tokensPerMinute(500 + random.nextInt(2_000))
          .tokensPerHour(random.nextBoolean() ? 0 : 5_000 + random.nextInt(20_000)).build();
      FakeClock clock = FakeClock.atMillis(1_700_000_000_000L + random.nextInt(10_000_000));
      RateLimiter limiter = limiter(config, clock, buckets);
      RateLimiter oracle = RateLimiter.builder().defaultConfig(config).clock(clock).bucketCount(buckets)
          .store(new ReferenceStore()).build();
      List<TokenReservation[]> open = new ArrayList<>();
      boolean[] advanced = new boolean[2];
      for (int i = 0; i < 1_500; i++) {
        int kind = random.nextInt(100);
        long gap = kind < 5 ? -random.nextInt(20_000) : random.nextInt(100) < 70 ? random.nextInt(3_000)
            : random.nextInt(400_000);
        // A gap that lets the in-memory store expire a quiet pair, which the oracle keeps (with its time)
        // until a cleanup: step back only once each pair has been stood at a time at least as late in
        // both (by a request check).
        clock.advanceMillis(gap < 0 && (advanced[0] || advanced[1]) ? 0 : gap);
        if (gap > 60_000) {
          advanced[0] = advanced[1] = true;
        }
        String user = random.nextBoolean() ? "a" : "b";
        String what = "round " + round + " event " + i + " at " + clock.millis();
        if (kind < 35) {
          long n = 1 + random.nextInt(random.nextInt(10) == 0 ? 6_000 : 800);
          TokenReservation mine = limiter.reserveTokens(user, "/e", n);
          TokenReservation theirs = oracle.reserveTokens(user, "/e", n);
          assertThat(mine.result()).as(what).isEqualTo(theirs.result());
          assertThat(mine.decision()).as(what).isEqualTo(theirs.decision());
          if (mine.granted()) {
            open.add(new TokenReservation[] {mine, theirs});
          }
        } else if (kind < 60 && !open.isEmpty()) {
          TokenReservation[] r = open.remove(random.nextInt(open.size()));
          long actual = random.nextInt(4) == 0 ? r[0].tokens() + random.nextInt(300) : random.nextInt((int) r[0].tokens() + 1);
          r[0].settle(actual);
          r[1].settle(actual);
        } else if (kind < 70) {
          long n = random.nextInt(500);
          limiter.recordTokens(user, "/e", n);
          oracle.recordTokens(user, "/e", n);
        } else if (kind < 95) {
          RateLimitResult mine = limiter.checkRateLimit(user, "/e");
          assertThat(mine).as(what).isEqualTo(oracle.checkRateLimit(user, "/e"));
          advanced[user.equals("a") ? 0 : 1] = false;
        } else if (kind < 97) {
          // Not compared either: a pair idle past its retention may be gone from the in-memory store
          // (not counted as cleared) and still held, quiet, by the oracle.
          limiter.resetUser(user);
          oracle.resetUser(user);
        } else {
          // Not compared: the in-memory store counts the idle pairs that its cache expired meanwhile
          // only when they expire during this call.
          limiter.cleanupExpired();
          oracle.cleanupExpired();
        }
        // Reads move no pair's time in either store: compare after every event.
        assertThat(limiter.getUsage(user, "/e")).as(what + " kind " + kind).isEqualTo(oracle.getUsage(user, "/e"));
        assertThat(limiter.tokenBudget(user, "/e")).as(what + " kind " + kind).isEqualTo(oracle.tokenBudget(user, "/e"));
      }
    }
  }
}
