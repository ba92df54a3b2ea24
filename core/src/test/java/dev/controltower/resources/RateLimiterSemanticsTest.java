package dev.controltower.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The cases of semantics.md, value for value, on a fake clock at t = 100 s unless said otherwise. */
class RateLimiterSemanticsTest {
  private final FakeClock clock = FakeClock.atSeconds(100);

  private RateLimiter limiter(RateLimitConfig config) {
    return RateLimiter.builder().defaultConfig(config).clock(clock).build();
  }

  private static RateLimitConfig perMinute(int n) {
    return RateLimitConfig.builder().requestsPerMinute(n).build();
  }

  @Test
  void checkRateLimit_firstRequest_allowedWithRemainingNine() {
    RateLimitResult r = limiter(perMinute(10)).checkRateLimit("user-1", "/api");
    assertThat(r.allowed()).isTrue();
    assertThat(r.exceeded()).isFalse();
    assertThat(r.remaining()).isEqualTo(9);
    assertThat(r.limitType()).isNull();
    assertThat(r.reason()).isNull();
    assertThat(r.retryAfterSeconds()).isZero();
  }

  @Test
  void checkRateLimit_threePerMinute_fourthRejectedByMinuteAfter62Seconds() {
    RateLimiter limiter = limiter(perMinute(3));
    assertThat(limiter.checkRateLimit("u").remaining()).isEqualTo(2);
    assertThat(limiter.checkRateLimit("u").remaining()).isEqualTo(1);
    assertThat(limiter.checkRateLimit("u").remaining()).isEqualTo(0);
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.exceeded()).isTrue();
    assertThat(r.limitType()).isEqualTo(LimitType.MINUTE);
    assertThat(r.current()).isEqualTo(3);
    assertThat(r.limit()).isEqualTo(3);
    assertThat(r.remaining()).isZero();
    assertThat(r.retryAfterSeconds()).isEqualTo(62.0);
    assertThat(r.reason()).isEqualTo("Rate limit exceeded: 3/3 requests per minute");
  }

  @Test
  void checkRateLimit_hourLimitFive_sixthRejectedByHourAfter3860Seconds() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(100).requestsPerHour(5).build());
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    }
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.HOUR);
    assertThat(r.retryAfterSeconds()).isEqualTo(3860.0);
  }

  @Test
  void checkRateLimit_dayLimitThree_fourthRejectedByDayAfter94940Seconds() {
    RateLimiter limiter = limiter(new RateLimitConfig(100, 200, 3, 0));
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    }
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.DAY);
    assertThat(r.retryAfterSeconds()).isEqualTo(94940.0);
  }

  @Test
  void checkRateLimit_dryRun_countsNothingAndCreatesNoState() {
    RateLimiter limiter = limiter(perMinute(10));
    RateLimitResult r = limiter.checkRateLimit("u", "/api", false);
    assertThat(r.allowed()).isTrue();
    assertThat(r.remaining()).isEqualTo(10);
    assertThat(limiter.getUsage("u", "/api").get(LimitType.MINUTE).current()).isZero();
    assertThat(limiter.trackedKeys()).isZero();
  }

  @Test
  void checkRateLimit_dryRunOnUsedKey_reportsRemainingWithoutCounting() {
    RateLimiter limiter = limiter(perMinute(10));
    limiter.checkRateLimit("u", "/api");
    assertThat(limiter.checkRateLimit("u", "/api", false).remaining()).isEqualTo(9);
    assertThat(limiter.checkRateLimit("u", "/api", false).remaining()).isEqualTo(9);
    assertThat(limiter.getUsage("u", "/api").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void checkRateLimit_afterWindowSlides_allowedAgainWithRemainingOne() {
    RateLimiter limiter = limiter(perMinute(2));
    limiter.checkRateLimit("u");
    limiter.checkRateLimit("u");
    assertThat(limiter.checkRateLimit("u").exceeded()).isTrue();
    clock.setSeconds(165);
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.allowed()).isTrue();
    assertThat(r.remaining()).isEqualTo(1);
  }

  @Test
  void getUsage_afterThreeCalls_reportsEveryWindow() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 100, 1000, 0));
    for (int i = 0; i < 3; i++) {
      limiter.checkRateLimit("u");
    }
    Map<LimitType, WindowUsage> usage = limiter.getUsage("u");
    assertThat(usage.keySet()).containsExactly(LimitType.MINUTE, LimitType.HOUR, LimitType.DAY);
    assertThat(usage.get(LimitType.MINUTE).current()).isEqualTo(3);
    assertThat(usage.get(LimitType.MINUTE).limit()).isEqualTo(10);
    assertThat(usage.get(LimitType.MINUTE).remaining()).isEqualTo(7);
    assertThat(usage.get(LimitType.HOUR).current()).isEqualTo(3);
    assertThat(usage.get(LimitType.DAY).current()).isEqualTo(3);
  }

  @Test
  void getUsage_resetInSeconds_isTimeUntilCountNextFallsRoundedUp() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 100, 1000, 0));
    limiter.checkRateLimit("u");
    clock.setMillis(100_500);
    Map<LimitType, WindowUsage> usage = limiter.getUsage("u");
    // The request in minute bucket 16 leaves at 162 s: 61.5 s from 100.5 s, rounded up.
    assertThat(usage.get(LimitType.MINUTE).resetInSeconds()).isEqualTo(62);
    assertThat(usage.get(LimitType.HOUR).resetInSeconds()).isEqualTo(3860);
    assertThat(usage.get(LimitType.DAY).resetInSeconds()).isEqualTo(94940);
    assertThat(limiter.getUsage("other").get(LimitType.MINUTE).resetInSeconds()).isZero();
  }

  @Test
  void getUsage_withBurstWindow_listsBurstFirstAndDisabledWindowsAsZero() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 100, 1000, 5));
    limiter.checkRateLimit("u");
    Map<LimitType, WindowUsage> usage = limiter.getUsage("u");
    assertThat(usage.keySet()).containsExactly(LimitType.BURST, LimitType.MINUTE, LimitType.HOUR, LimitType.DAY);
    assertThat(usage.get(LimitType.BURST).current()).isEqualTo(1);
    assertThat(usage.get(LimitType.MINUTE).limit()).isZero();
    assertThat(usage.get(LimitType.MINUTE).remaining()).isZero();
    assertThat(usage.get(LimitType.MINUTE).current()).as("a disabled window counts nothing").isZero();
    assertThat(usage.get(LimitType.MINUTE).resetInSeconds()).isZero();
  }

  @Test
  void resetUser_countsTheWindowsTheConfigEnables() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 10, 0, 0));
    limiter.checkRateLimit("u", "/a");
    limiter.checkRateLimit("u", "/b");
    assertThat(limiter.resetUser("u")).isEqualTo(2);
  }

  @Test
  void cleanupExpired_keysPastTheirExpiry_areCountedToo() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 0, 0, 0));
    limiter.checkRateLimit("u", "/a");
    limiter.checkRateLimit("v", "/a");
    clock.setSeconds(170);
    assertThat(limiter.cleanupExpired()).isEqualTo(2);
    assertThat(limiter.trackedKeys()).isZero();
  }

  @Test
  void getConfig_precedence_endpointThenUserThenDefault() {
    RateLimiter limiter = limiter(perMinute(100));
    limiter.setUserLimits("user-123", perMinute(50));
    limiter.setEndpointLimits("/api/special", perMinute(10));
    assertThat(limiter.getConfig("user-123", "/api/special").requestsPerMinute()).isEqualTo(10);
    assertThat(limiter.getConfig("user-123", "/api/other").requestsPerMinute()).isEqualTo(50);
    assertThat(limiter.getConfig("unknown").requestsPerMinute()).isEqualTo(100);
    assertThat(limiter.getConfig("user-123").requestsPerMinute()).isEqualTo(50);
  }

  @Test
  void checkRateLimit_minuteDisabled_hourLimitsAtTen() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 10, 0, 0));
    for (int i = 0; i < 10; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    }
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.exceeded()).isTrue();
    assertThat(r.limitType()).isEqualTo(LimitType.HOUR);
  }

  @Test
  void checkRateLimit_endpointExhausted_otherEndpointStillAllowed() {
    RateLimiter limiter = limiter(perMinute(5));
    for (int i = 0; i < 5; i++) {
      limiter.checkRateLimit("u", "endpoint1");
    }
    assertThat(limiter.checkRateLimit("u", "endpoint1").exceeded()).isTrue();
    RateLimitResult r = limiter.checkRateLimit("u", "endpoint2");
    assertThat(r.allowed()).isTrue();
    assertThat(r.remaining()).isEqualTo(4);
    assertThat(limiter.getUsage("u", "endpoint2").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void resetUser_callsOnTwoEndpoints_clearsSixWindowsAndLeavesOthers() {
    RateLimiter limiter = limiter(RateLimitConfig.defaults());
    limiter.checkRateLimit("user-123", "/a");
    limiter.checkRateLimit("user-123", "/b");
    limiter.checkRateLimit("user-456", "/a");
    assertThat(limiter.resetUser("user-123")).isEqualTo(6);
    assertThat(limiter.getUsage("user-123", "/a").get(LimitType.MINUTE).current()).isZero();
    assertThat(limiter.getUsage("user-456", "/a").get(LimitType.MINUTE).current()).isEqualTo(1);
    assertThat(limiter.resetUser("nobody")).isZero();
  }

  @Test
  void checkRateLimit_fiveThreadsTenCalls_noneRejectedCountFifty() throws Exception {
    RateLimiter limiter = limiter(perMinute(100));
    ExecutorService pool = Executors.newFixedThreadPool(5);
    try {
      List<Future<Integer>> rejected = new ArrayList<>();
      for (int t = 0; t < 5; t++) {
        rejected.add(pool.submit(() -> {
          int n = 0;
          for (int i = 0; i < 10; i++) {
            n += limiter.checkRateLimit("u").exceeded() ? 1 : 0;
          }
          return n;
        }));
      }
      for (Future<Integer> f : rejected) {
        assertThat(f.get()).isZero();
      }
    } finally {
      pool.shutdown();
    }
    assertThat(limiter.getUsage("u").get(LimitType.MINUTE).current()).isEqualTo(50);
  }

  @Test
  void millisUntilSlot_threeRequestsSpreadOverBuckets_matchesWorkedValues() {
    for (int[] limitAndWait : new int[][] {{3, 49}, {2, 55}, {1, 61}}) {
      FakeClock c = FakeClock.atSeconds(100);
      RateLimiter limiter = RateLimiter.builder()
          .defaultConfig(perMinute(10)).clock(c).build();
      limiter.checkRateLimit("u");
      c.setMillis(106_500);
      limiter.checkRateLimit("u");
      c.setMillis(113_000);
      limiter.checkRateLimit("u");
      limiter.setDefaultConfig(perMinute(limitAndWait[0]));
      RateLimitResult r = limiter.checkRateLimit("u");
      assertThat(r.retryAfterSeconds()).as("limit %d", limitAndWait[0]).isEqualTo((double) limitAndWait[1]);
    }
  }

  @Test
  void checkRateLimit_fullWindowsAtOneHundredSeconds_waitsMatchWorkedValues() {
    assertThat(fullWindowWait(new RateLimitConfig(5, 0, 0, 0))).isEqualTo(62.0);
    assertThat(fullWindowWait(new RateLimitConfig(0, 5, 0, 0))).isEqualTo(3860.0);
    assertThat(fullWindowWait(new RateLimitConfig(0, 0, 5, 0))).isEqualTo(94940.0);
  }

  private double fullWindowWait(RateLimitConfig config) {
    RateLimiter limiter = RateLimiter.builder().defaultConfig(config).clock(FakeClock.atSeconds(100)).build();
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    }
    return limiter.checkRateLimit("u").retryAfterSeconds();
  }

  @Test
  void checkRateLimit_severalWindowsReject_namesTheOneThatFreesLast() {
    // Minute and hour both full: the hour frees last, so waiting the minute's time would not help.
    RateLimiter limiter = limiter(new RateLimitConfig(3, 3, 0, 0));
    for (int i = 0; i < 3; i++) {
      limiter.checkRateLimit("u");
    }
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.HOUR);
    assertThat(r.retryAfterSeconds()).isEqualTo(3860.0);
    assertThat(r.current()).isEqualTo(3);
    assertThat(r.limit()).isEqualTo(3);
    clock.advanceSeconds(r.retryAfterSeconds());
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
  }

  @Test
  void checkRateLimit_remaining_isSmallestRoomOverEnabledWindows() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 4, 0, 0));
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.remaining()).isEqualTo(3);
    assertThat(r.current()).isEqualTo(1);
    assertThat(r.limit()).isEqualTo(4);
  }

  @Test
  void checkRateLimit_rejection_recordsNothing() {
    RateLimiter limiter = limiter(perMinute(1));
    limiter.checkRateLimit("u");
    for (int i = 0; i < 100; i++) {
      assertThat(limiter.checkRateLimit("u").exceeded()).isTrue();
    }
    assertThat(limiter.getUsage("u").get(LimitType.MINUTE).current()).isEqualTo(1);
    clock.advanceSeconds(62);
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
  }

  @Test
  void checkRateLimit_burstWindow_limitsWithinOneSecond() {
    RateLimiter limiter = limiter(new RateLimitConfig(100, 0, 0, 2));
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.BURST);
    // Burst bucket 1000 (100 ms buckets) leaves at (1000 + 11) * 100 ms = 101.1 s.
    assertThat(r.retryAfterSeconds()).isEqualTo(1.1);
    assertThat(r.reason()).isEqualTo("Rate limit exceeded: 2/2 requests per burst");
  }

  @Test
  void checkRateLimit_clockMovesBack_futureBucketsStillCount() {
    RateLimiter limiter = limiter(perMinute(2));
    limiter.checkRateLimit("u");
    limiter.checkRateLimit("u");
    clock.setSeconds(50);
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.exceeded()).isTrue();
    // Measured from the real now: the requests of bucket 16 leave at 162 s.
    assertThat(r.retryAfterSeconds()).isEqualTo(112.0);
  }

  @Test
  void setDefaultConfig_whileKeyInUse_appliesToNextCheck() {
    RateLimiter limiter = limiter(perMinute(100));
    for (int i = 0; i < 5; i++) {
      limiter.checkRateLimit("u");
    }
    limiter.setDefaultConfig(perMinute(5));
    assertThat(limiter.checkRateLimit("u").exceeded()).isTrue();
    limiter.setDefaultConfig(perMinute(6));
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
  }

  @Test
  void checkRateLimit_unlimitedConfig_admitsWithMaxRemaining() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 0, 0, 0));
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.allowed()).isTrue();
    assertThat(r.remaining()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void decide_allowed_namesBindingWindowAndReset() {
    RateLimiter limiter = limiter(RateLimitConfig.defaults());
    RateLimitDecision d = limiter.decide("u", "/api", true);
    assertThat(d.allowed()).isTrue();
    assertThat(d.window()).isEqualTo(LimitType.MINUTE);
    assertThat(d.result().remaining()).isEqualTo(59);
    assertThat(d.resetSeconds()).isEqualTo(62);
    assertThat(d.config()).isEqualTo(RateLimitConfig.defaults());
  }

  @Test
  void decide_rejected_resetIsCeilOfRetryAfter() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 0, 0, 1));
    limiter.checkRateLimit("u");
    clock.setMillis(100_950);
    RateLimitDecision d = limiter.decide("u", "default", true);
    assertThat(d.allowed()).isFalse();
    assertThat(d.result().retryAfterSeconds()).isEqualTo(0.15);
    assertThat(d.resetSeconds()).isEqualTo(1);
  }

  @Test
  void checkRateLimit_nullArguments_throwNamingTheParameter() {
    RateLimiter limiter = limiter(RateLimitConfig.defaults());
    assertThatThrownBy(() -> limiter.checkRateLimit(null, "/a"))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("userId");
    assertThatThrownBy(() -> limiter.checkRateLimit("u", null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("endpoint");
    assertThatThrownBy(() -> limiter.setUserLimits("u", null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("config");
    assertThatThrownBy(() -> limiter.getUsage(null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("userId");
  }

  @Test
  void cleanupExpired_removesOnlyKeysThatCountNothing() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 0, 0, 0));
    limiter.setUserLimits("long", RateLimitConfig.defaults());
    limiter.checkRateLimit("short", "/a");
    limiter.checkRateLimit("long", "/a");
    assertThat(limiter.cleanupExpired()).isZero();
    // At 163 s the minute-only key's request (bucket 16) has left its window, but the key has not yet
    // reached its automatic expiry (66 s after last use); the other still counts in its hour and day windows.
    clock.setSeconds(163);
    // The minute-only key counts nothing now; the other still counts in its hour and day windows.
    assertThat(limiter.cleanupExpired()).isEqualTo(1);
    assertThat(limiter.trackedKeys()).isEqualTo(1);
    assertThat(limiter.getUsage("long", "/a").get(LimitType.HOUR).current()).isEqualTo(1);
  }

  @Test
  void idleKey_expiresOnItsOwnOnceItsWindowsCountNothing() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 0, 0, 0));
    limiter.checkRateLimit("u", "/a");
    limiter.cleanUp();
    assertThat(limiter.trackedKeys()).isEqualTo(1);
    clock.advanceSeconds(67);
    limiter.cleanUp();
    assertThat(limiter.trackedKeys()).isZero();
  }

  @Test
  void keys_listsPairsWithStateUpToMax() {
    RateLimiter limiter = limiter(RateLimitConfig.defaults());
    limiter.checkRateLimit("a", "/x");
    limiter.checkRateLimit("b", "/y");
    limiter.checkRateLimit("c", "/z", false);
    assertThat(limiter.keys(10)).containsExactlyInAnyOrder(new RateLimitKey("a", "/x"), new RateLimitKey("b", "/y"));
    assertThat(limiter.keys(1)).hasSize(1);
    assertThatThrownBy(() -> limiter.keys(-1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("max must be >= 0 but was -1");
  }
}
