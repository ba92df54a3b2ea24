package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.TokenGrant;
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

  /**
   * The token steps too: plans with token windows beside the request windows, reservations (some
   * above a limit), refunds of granted ones (to their bucket, some after it left the window), debits
   * that overshoot, token reads, and acquire, check and read, which a full token window refuses.
   */
  @Test
  void tokenSteps_randomSequences_matchTheOracleValueForValue() {
    SplittableRandom random = new SplittableRandom(12);
    int[] kinds = new int[8];
    for (int s = 0; s < SEQUENCES / 2; s++) {
      ReferenceStore oracle = new ReferenceStore();
      int buckets = BUCKETS[random.nextInt(BUCKETS.length)];
      WindowPlan[] plans = {tokenPlan(random, buckets), tokenPlan(random, buckets)};
      String user = "t" + s;
      String endpoint = "/llm";
      long now = 1_700_000_000_000L + random.nextLong(1_000_000_000L);
      java.util.List<long[]> grants = new java.util.ArrayList<>();
      for (int step = 0; step < STEPS; step++) {
        now += gap(random);
        if (random.nextInt(12) == 0) {
          now -= random.nextInt(90_000);
        }
        WindowPlan plan = plans[random.nextInt(10) == 0 ? 1 : 0];
        long tokens = 1 + random.nextInt(random.nextInt(8) == 0 ? 3_000 : 400);
        String what = "sequence " + s + " step " + step + " at " + now + " " + plan + " tokens " + tokens;
        int kind = random.nextInt(8);
        kinds[kind]++;
        switch (kind) {
          case 0, 1 -> {
            TokenGrant expected = oracle.reserveTokens(user, endpoint, plan, tokens, now);
            TokenGrant actual = store.reserveTokens(user, endpoint, plan, tokens, now);
            assertThat(show(actual.outcome()) + " at " + actual.countedAt()).as(what)
                .isEqualTo(show(expected.outcome()) + " at " + expected.countedAt());
            if (expected.outcome().admitted()) {
              grants.add(new long[] {tokens, expected.countedAt()});
            }
          }
          case 2 -> {
            if (!grants.isEmpty()) {
              long[] g = grants.remove(random.nextInt(grants.size()));
              long back = 1 + random.nextInt((int) g[0] + 100);
              oracle.refundTokens(user, endpoint, plan, back, g[1], now);
              store.refundTokens(user, endpoint, plan, back, g[1], now);
            }
          }
          case 3 -> {
            oracle.debitTokens(user, endpoint, plan, tokens, now);
            store.debitTokens(user, endpoint, plan, tokens, now);
          }
          case 4 -> assertThat(show(store.readTokens(user, endpoint, plan, now))).as(what)
              .isEqualTo(show(oracle.readTokens(user, endpoint, plan, now)));
          case 5 -> assertThat(show(store.check(user, endpoint, plan, 1, now))).as(what)
              .isEqualTo(show(oracle.check(user, endpoint, plan, 1, now)));
          case 6 -> assertThat(show(store.read(user, endpoint, plan, now))).as(what)
              .isEqualTo(show(oracle.read(user, endpoint, plan, now)));
          default -> assertThat(show(store.acquire(user, endpoint, plan, 1, now))).as(what)
              .isEqualTo(show(oracle.acquire(user, endpoint, plan, 1, now)));
        }
        // Token reads move nothing in either store: compare after every step.
        assertThat(show(store.readTokens(user, endpoint, plan, now))).as(what + " kind " + kind)
            .isEqualTo(show(oracle.readTokens(user, endpoint, plan, now)));
      }
    }
    assertThat(kinds[2]).isGreaterThan(500);
  }

  private static WindowPlan tokenPlan(SplittableRandom random, int buckets) {
    RateLimitConfig.Builder b = RateLimitConfig.builder()
        .burstSize(random.nextInt(3) == 0 ? 1 + random.nextInt(4) : 0)
        .requestsPerMinute(random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(6))
        .requestsPerHour(random.nextInt(2) == 0 ? 0 : 1 + random.nextInt(12)).requestsPerDay(0)
        .tokensPerMinute(random.nextInt(4) == 0 ? 0 : 200 + random.nextInt(2_000))
        .tokensPerHour(random.nextInt(2) == 0 ? 0 : 1_000 + random.nextInt(10_000))
        .tokensPerDay(random.nextInt(4) == 0 ? 5_000 + random.nextInt(50_000) : 0);
    RateLimitConfig config = b.build();
    return !config.hasTokenWindows()
        ? WindowPlan.of(RateLimitConfig.builder().tokensPerMinute(700).build(), buckets)
        : WindowPlan.of(config, buckets);
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
