package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.kit.FakeClock;
import dev.controltower.spi.kit.ReferenceStore;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The script itself (refusal cache off) against the kit's oracle, {@link ReferenceStore}, on thousands
 * of short random sequences: random plans over all four windows (changing between calls of one pair),
 * bucket counts, costs, acquire, dry runs and reads, gaps from 0 ms to hours, and the clock stepping
 * back. Every answer must be the same value for value: the Outcome (admitted: tightest window, count,
 * remaining, reset; refused: every count and wait) and the reading.
 */
class RedisScriptOracleTest {
  private static final int SEQUENCES = 2_000;
  private static final int STEPS = 16;
  private static final int[] BUCKETS = {1, 4, 10, 25};
  private static FakeClock clock;
  private static RedisWindowStore store;

  @BeforeAll
  static void open() {
    clock = FakeClock.atMillis(1_700_000_000_000L);
    store = RedisStores.onShared(clock).refusalCacheSize(0).build();
  }

  @AfterAll
  static void close() {
    store.close();
  }

  @Test
  void everyStep_randomSequences_matchesTheOracleValueForValue() {
    SplittableRandom random = new SplittableRandom(11);
    int refusals = 0;
    int admissions = 0;
    int stepsBack = 0;
    for (int s = 0; s < SEQUENCES; s++) {
      ReferenceStore oracle = new ReferenceStore();
      int buckets = BUCKETS[random.nextInt(BUCKETS.length)];
      WindowPlan[] plans = {plan(random, buckets), plan(random, buckets)};
      String user = "u" + s;
      String[] endpoints = {"/a", "/b"};
      long now = 1_700_000_000_000L + random.nextLong(1_000_000_000L);
      for (int step = 0; step < STEPS; step++) {
        now += gap(random);
        if (random.nextInt(12) == 0) {
          now -= random.nextInt(90_000);
          stepsBack++;
        }
        WindowPlan plan = plans[random.nextInt(10) == 0 ? 1 : 0];
        String endpoint = endpoints[random.nextInt(4) == 0 ? 1 : 0];
        long cost = 1 + (random.nextInt(3) == 0 ? random.nextInt(4) : 0);
        String what = "sequence " + s + " step " + step + " at " + now + " " + plan + " cost " + cost;
        switch (random.nextInt(6)) {
          case 0 -> assertThat(show(store.check(user, endpoint, plan, cost, now))).as(what)
              .isEqualTo(show(oracle.check(user, endpoint, plan, cost, now)));
          case 1 -> assertThat(show(store.read(user, endpoint, plan, now))).as(what)
              .isEqualTo(show(oracle.read(user, endpoint, plan, now)));
          default -> {
            Outcome expected = oracle.acquire(user, endpoint, plan, cost, now);
            assertThat(show(store.acquire(user, endpoint, plan, cost, now))).as(what).isEqualTo(show(expected));
            if (expected.admitted()) {
              admissions++;
            } else {
              refusals++;
            }
          }
        }
      }
    }
    assertThat(refusals).as("the sequences must refuse often").isGreaterThan(3_000);
    assertThat(admissions).isGreaterThan(3_000);
    assertThat(stepsBack).isGreaterThan(1_000);
  }

  private static WindowPlan plan(SplittableRandom random, int buckets) {
    int burst = random.nextInt(3) == 0 ? 1 + random.nextInt(4) : 0;
    int minute = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(6);
    int hour = random.nextInt(2) == 0 ? 0 : 1 + random.nextInt(12);
    int day = random.nextInt(3) == 0 ? 1 + random.nextInt(20) : 0;
    return WindowPlan.of(new RateLimitConfig(minute, hour, day, burst), buckets);
  }

  private static long gap(SplittableRandom random) {
    int kind = random.nextInt(10);
    if (kind < 2) {
      return 0;
    } else if (kind < 5) {
      return random.nextInt(300);
    } else if (kind < 8) {
      return random.nextInt(20_000);
    }
    return random.nextLong(4_000_000);
  }

  static String show(Outcome o) {
    return o.toString();
  }

  static String show(WindowReading r) {
    return Arrays.toString(r.counts()) + " " + Arrays.toString(r.resetMillis());
  }
}
