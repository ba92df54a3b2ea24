package dev.controltower.spi.kit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random arrivals with random costs on a fake clock, checked three ways: against the oracle
 * ({@link ReferenceStore}, the rule of {@link dev.controltower.spi.WindowMath} written plainly): the same
 * decision, window, wait to the ms, count, remaining and the reset of the binding window, event by event; against the safety bound (no
 * half-open interval of length W admits more than the limit); and against the promise that a client
 * that waits exactly {@code retryAfterSeconds} is admitted. A paced client is never refused.
 */
public abstract class SlidingWindowPropertyContract extends StoreContract {
  /** Events per configuration; 6 configurations. */
  private static final int EVENTS = 20_000;

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of(10, new RateLimitConfig(5, 0, 0, 0), 1, 1L),
        Arguments.of(10, new RateLimitConfig(12, 60, 0, 6), 4, 2L),
        Arguments.of(1, new RateLimitConfig(8, 40, 0, 0), 3, 3L),
        Arguments.of(4, new RateLimitConfig(120, 300, 2000, 20), 25, 4L),
        Arguments.of(25, new RateLimitConfig(6, 0, 0, 0), 3, 5L),
        Arguments.of(100, new RateLimitConfig(0, 90, 150, 0), 40, 6L));
  }

  @ParameterizedTest(name = "buckets={0} config={1} maxCost={2}")
  @MethodSource("configs")
  void checkRateLimit_randomArrivalsAndCosts_matchOracleAndHoldEveryWindow(int buckets, RateLimitConfig config,
      int maxCost, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    FakeClock clock = FakeClock.atMillis(1_700_000_000_000L + random.nextInt(1_000_000));
    RateLimiter limiter = limiter(config, clock, buckets);
    RateLimiter oracle = RateLimiter.builder().defaultConfig(config).clock(clock).bucketCount(buckets)
        .store(new ReferenceStore()).build();
    String[] keys = {"alice", "bob", "carol"};
    Map<String, List<long[]>> admitted = new HashMap<>();
    for (String k : keys) {
      admitted.put(k, new ArrayList<>());
    }
    int rejections = 0;
    int retriesChecked = 0;
    for (int i = 0; i < EVENTS; i++) {
      clock.advanceMillis(nextGap(random));
      String key = keys[random.nextInt(keys.length)];
      long cost = 1 + (random.nextInt(3) == 0 ? random.nextInt(maxCost) : 0);
      long now = clock.millis();
      RateLimitDecision decision = limiter.decide(key, "/e", cost, true);
      RateLimitDecision expectedDecision = oracle.decide(key, "/e", cost, true);
      // The whole decision: result, binding window, reset (the RateLimit field's t), violated windows.
      assertThat(decision).as("event %d at %d on %s, cost %d", i, now, key, cost).isEqualTo(expectedDecision);
      RateLimitResult actual = decision.result();
      if (actual.allowed()) {
        admitted.get(key).add(new long[] {now, cost});
        continue;
      }
      rejections++;
      if (random.nextInt(4) == 0 && !Double.isInfinite(actual.retryAfterSeconds())) {
        // The client waits exactly the advertised time; nothing else touches its key meanwhile.
        clock.advanceMillis(Math.round(actual.retryAfterSeconds() * 1000));
        long retryAt = clock.millis();
        RateLimitResult retry = limiter.checkRateLimit(key, "/e", cost);
        assertThat(retry).as("retry after %s s at event %d", actual.retryAfterSeconds(), i)
            .isEqualTo(oracle.checkRateLimit(key, "/e", cost));
        assertThat(retry.allowed()).as("retry after %s s at event %d", actual.retryAfterSeconds(), i).isTrue();
        admitted.get(key).add(new long[] {retryAt, cost});
        retriesChecked++;
      }
    }
    assertThat(rejections).as("the pattern must exercise rejections").isGreaterThan(500);
    assertThat(retriesChecked).isGreaterThan(50);
    for (Map.Entry<String, List<long[]>> e : admitted.entrySet()) {
      for (LimitType type : new LimitType[] {LimitType.BURST, LimitType.MINUTE, LimitType.HOUR, LimitType.DAY}) {
        int limit = config.limitFor(type);
        if (limit > 0) {
          assertNoHalfOpenIntervalAdmitsMoreThan(e.getValue(), limit, type.windowMillis(), e.getKey() + " " + type);
        }
      }
    }
  }

  /** For every admission time t, the cost admitted in [t, t + W) is at most {@code limit}. */
  static void assertNoHalfOpenIntervalAdmitsMoreThan(List<long[]> admissions, long limit, long windowMillis,
      String what) {
    int end = 0;
    long sum = 0;
    for (int start = 0; start < admissions.size(); start++) {
      long from = admissions.get(start)[0];
      while (end < admissions.size() && admissions.get(end)[0] < from + windowMillis) {
        sum += admissions.get(end)[1];
        end++;
      }
      if (sum > limit) {
        throw new AssertionError(what + ": cost " + sum + " admitted in [" + from + ", " + (from + windowMillis)
            + "), limit " + limit);
      }
      sum -= admissions.get(start)[1];
    }
  }

  @Test
  void checkRateLimit_clientsPacedAtWindowOverLimit_areNeverRefused() {
    SplittableRandom random = new SplittableRandom(42);
    int[] bucketCounts = {1, 4, 10, 25, 100};
    for (int round = 0; round < 40; round++) {
      int buckets = bucketCounts[random.nextInt(bucketCounts.length)];
      LimitType type = random.nextBoolean() ? LimitType.MINUTE : LimitType.BURST;
      int limit = 1 + random.nextInt(buckets);
      RateLimitConfig config = type == LimitType.MINUTE
          ? RateLimitConfig.builder().requestsPerMinute(limit).requestsPerHour(0).requestsPerDay(0).build()
          : RateLimitConfig.builder().burstSize(limit).requestsPerMinute(0).requestsPerHour(0).requestsPerDay(0).build();
      FakeClock clock = FakeClock.atMillis(1_700_000_000_000L + random.nextInt(10_000_000));
      RateLimiter limiter = limiter(config, clock, buckets);
      long spacing = (type.windowMillis() + limit - 1) / limit;
      for (int i = 0; i < 3 * limit + 20; i++) {
        RateLimitResult r = limiter.checkRateLimit("paced", "/e");
        assertThat(r.allowed()).as("round %d: %d buckets, %s limit %d, request %d", round, buckets, type, limit, i)
            .isTrue();
        clock.advanceMillis(spacing + (random.nextInt(4) == 0 ? random.nextInt(50) : 0));
      }
    }
  }

  private static long nextGap(SplittableRandom random) {
    int kind = random.nextInt(100);
    if (kind < 20) {
      return 0;
    } else if (kind < 50) {
      return random.nextInt(200);
    } else if (kind < 80) {
      return random.nextInt(10_000);
    } else if (kind < 96) {
      return random.nextInt(600_000);
    }
    return random.nextLong(7_200_000);
  }
}
