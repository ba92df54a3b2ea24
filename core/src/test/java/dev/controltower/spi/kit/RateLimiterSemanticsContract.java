package dev.controltower.spi.kit;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.WindowUsage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The cases of semantics.md, value for value, on a fake clock at t = 100 s unless said otherwise, through
 * the public limiter over the store under test.
 */
public abstract class RateLimiterSemanticsContract extends StoreContract {
  private final FakeClock clock = FakeClock.atSeconds(100);

  private RateLimiter limiter(RateLimitConfig config) {
    return limiter(config, clock);
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
  void checkRateLimit_threePerMinute_fourthRejectedByMinuteAfter60Seconds() {
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
    assertThat(r.retryAfterSeconds()).isEqualTo(60.0);
    assertThat(r.reason()).isEqualTo("Rate limit exceeded: 3/3 requests per minute");
  }

  @Test
  void checkRateLimit_hourLimitFive_sixthRejectedByHourAfter3600Seconds() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(100).requestsPerHour(5).build());
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    }
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.HOUR);
    assertThat(r.retryAfterSeconds()).isEqualTo(3600.0);
  }

  @Test
  void checkRateLimit_dayLimitThree_fourthRejectedByDayAfter86400Seconds() {
    RateLimiter limiter = limiter(new RateLimitConfig(100, 200, 3, 0));
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    }
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.DAY);
    assertThat(r.retryAfterSeconds()).isEqualTo(86400.0);
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
    // The request at 100 s stops counting at 160 s: 59.5 s from 100.5 s, rounded up.
    assertThat(usage.get(LimitType.MINUTE).resetInSeconds()).isEqualTo(60);
    assertThat(usage.get(LimitType.HOUR).resetInSeconds()).isEqualTo(3600);
    assertThat(usage.get(LimitType.DAY).resetInSeconds()).isEqualTo(86400);
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
  void userAndEndpointConfigs_setAfterTrafficUnderTheDefault_bindTheNextDecision() {
    RateLimiter limiter = limiter(perMinute(100));
    assertThat(limiter.checkRateLimit("u", "/a").limit()).isEqualTo(100); // no per-user or endpoint config yet
    limiter.setUserLimits("u", perMinute(2));
    assertThat(limiter.checkRateLimit("u", "/a").limit()).isEqualTo(2);
    assertThat(limiter.checkRateLimit("other", "/a").limit()).isEqualTo(100);
    limiter.setEndpointLimits("/b", perMinute(1));
    assertThat(limiter.checkRateLimit("other", "/b").allowed()).isTrue();
    assertThat(limiter.checkRateLimit("other", "/b").allowed()).isFalse();
    assertThat(limiter.getConfig("u", "/b").requestsPerMinute()).isEqualTo(1);
    assertThat(limiter.getConfig("u", "/a").requestsPerMinute()).isEqualTo(2);
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
    for (double[] limitAndWait : new double[][] {{3, 47.0}, {2, 53.5}, {1, 60.0}}) {
      FakeClock c = FakeClock.atSeconds(100);
      RateLimiter limiter = limiter(perMinute(10), c);
      limiter.checkRateLimit("u");
      c.setMillis(106_500);
      limiter.checkRateLimit("u");
      c.setMillis(113_000);
      limiter.checkRateLimit("u");
      limiter.setDefaultConfig(perMinute((int) limitAndWait[0]));
      RateLimitResult r = limiter.checkRateLimit("u");
      assertThat(r.retryAfterSeconds()).as("limit %s", limitAndWait[0]).isEqualTo(limitAndWait[1]);
    }
  }

  @Test
  void millisUntilSlot_twoRequestsInOneBucket_bothCountUntilTheLaterPlusTheWindow() {
    FakeClock c = FakeClock.atMillis(96_000);
    RateLimiter limiter = limiter(perMinute(2), c);
    limiter.checkRateLimit("u");
    c.setMillis(101_900); // same bucket, [96, 102)
    limiter.checkRateLimit("u");
    assertThat(limiter.checkRateLimit("u").retryAfterSeconds()).isEqualTo(60.0);
    c.setMillis(161_899);
    assertThat(limiter.checkRateLimit("u").exceeded()).isTrue();
    c.setMillis(161_900);
    assertThat(limiter.checkRateLimit("u").remaining()).isEqualTo(1);
  }

  @Test
  void checkRateLimit_clientPacedAtTheAdvertisedRate_isNeverRefused() {
    RateLimiter limiter = limiter(perMinute(5));
    for (int i = 0; i < 200; i++) {
      RateLimitResult r = limiter.checkRateLimit("u");
      assertThat(r.allowed()).as("request %d at %d ms", i, clock.millis()).isTrue();
      clock.advanceSeconds(12);
    }
  }

  @Test
  void checkRateLimit_sixthRequestOfAPacedClientSixtySecondsLater_isAdmitted() {
    // The reproduction of the retired rule: 5/min, one request every 12 s, the 6th at +60.0 s.
    RateLimiter limiter = limiter(perMinute(5));
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
      clock.advanceSeconds(12);
    }
    RateLimitResult sixth = limiter.checkRateLimit("u");
    assertThat(sixth.allowed()).isTrue();
    assertThat(sixth.remaining()).isZero();
  }

  @Test
  void checkRateLimit_fullWindowsAtOneHundredSeconds_waitsMatchWorkedValues() {
    assertThat(fullWindowWait(new RateLimitConfig(5, 0, 0, 0))).isEqualTo(60.0);
    assertThat(fullWindowWait(new RateLimitConfig(0, 5, 0, 0))).isEqualTo(3600.0);
    assertThat(fullWindowWait(new RateLimitConfig(0, 0, 5, 0))).isEqualTo(86400.0);
  }

  private double fullWindowWait(RateLimitConfig config) {
    RateLimiter limiter = limiter(config, FakeClock.atSeconds(100));
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
    assertThat(r.retryAfterSeconds()).isEqualTo(3600.0);
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
    clock.advanceSeconds(60);
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
  }

  @Test
  void checkRateLimit_burstWindow_limitsWithinOneSecond() {
    RateLimiter limiter = limiter(new RateLimitConfig(100, 0, 0, 2));
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    assertThat(limiter.checkRateLimit("u").allowed()).isTrue();
    RateLimitResult r = limiter.checkRateLimit("u");
    assertThat(r.limitType()).isEqualTo(LimitType.BURST);
    // Both requests at 100.0 s stop counting at 101.0 s.
    assertThat(r.retryAfterSeconds()).isEqualTo(1.0);
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
    // Measured from the real now: the requests made at 100 s stop counting at 160 s.
    assertThat(r.retryAfterSeconds()).isEqualTo(110.0);
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
    assertThat(d.resetSeconds()).isEqualTo(60);
    assertThat(d.config()).isEqualTo(RateLimitConfig.defaults());
  }

  @Test
  void decide_rejected_resetIsCeilOfRetryAfter() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 0, 0, 1));
    limiter.checkRateLimit("u");
    clock.setMillis(100_950);
    RateLimitDecision d = limiter.decide("u", "default", true);
    assertThat(d.allowed()).isFalse();
    assertThat(d.result().retryAfterSeconds()).isEqualTo(0.05);
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
    clock.setMillis(159_999);
    assertThat(limiter.cleanupExpired()).isZero();
    // At 160 s the minute-only key's request (made at 100 s) has left its window, before the key's own
    // expiry (66 s after its last use); the other still counts in its hour and day windows.
    clock.setSeconds(160);
    assertThat(limiter.cleanupExpired()).isEqualTo(1);
    assertThat(limiter.trackedKeys()).isEqualTo(1);
    assertThat(limiter.getUsage("long", "/a").get(LimitType.HOUR).current()).isEqualTo(1);
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

  @Test
  void checkRateLimitCost_fitsEveryWindow_isCountedInEach() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 25, 0, 0));
    RateLimitResult r = limiter.checkRateLimit("u", "/llm", 7);
    assertThat(r.allowed()).isTrue();
    assertThat(r.remaining()).isEqualTo(3);
    assertThat(r.current()).isEqualTo(7);
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.HOUR).current()).isEqualTo(7);
  }

  @Test
  void checkRateLimitCost_tooMuchForOneWindow_countsInNone() {
    RateLimiter limiter = limiter(new RateLimitConfig(10, 25, 0, 0));
    limiter.checkRateLimit("u", "/llm", 8);
    RateLimitResult r = limiter.checkRateLimit("u", "/llm", 3);
    assertThat(r.exceeded()).isTrue();
    assertThat(r.limitType()).isEqualTo(LimitType.MINUTE);
    assertThat(r.current()).isEqualTo(8);
    assertThat(r.retryAfterSeconds()).isEqualTo(60.0);
    assertThat(r.reason()).isEqualTo("Rate limit exceeded: 8/10 requests per minute, and this request costs 3");
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.HOUR).current()).isEqualTo(8);
    assertThat(limiter.checkRateLimit("u", "/llm", 2).allowed()).isTrue();
  }

  @Test
  void checkRateLimitCost_aboveALimit_isRefusedForeverWithoutCounting() {
    RateLimiter limiter = limiter(new RateLimitConfig(4000, 100_000, 0, 0));
    RateLimitResult r = limiter.checkRateLimit("u", "/llm", 5000);
    assertThat(r.exceeded()).isTrue();
    assertThat(r.limitType()).isEqualTo(LimitType.MINUTE);
    assertThat(r.retryAfterSeconds()).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(r.reason()).isEqualTo("cost 5000 exceeds the minute limit 4000 and can never be admitted");
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.HOUR).current()).isZero();
    RateLimitDecision d = limiter.decide("u", "/llm", 5000, true);
    assertThat(d.neverAdmitted()).isTrue();
    assertThat(d.violated()).containsExactly(LimitType.MINUTE);
  }

  @Test
  void checkRateLimitCost_waitIsUntilEnoughHasLeft() {
    RateLimiter limiter = limiter(perMinute(10));
    limiter.checkRateLimit("u", "/llm", 4); // at 100 s
    clock.setSeconds(110);
    limiter.checkRateLimit("u", "/llm", 4); // at 110 s
    clock.setSeconds(120);
    // 8 counted; a cost of 5 needs 3 to leave: the first bucket (4 at 100 s) is enough, at 160 s.
    assertThat(limiter.checkRateLimit("u", "/llm", 5).retryAfterSeconds()).isEqualTo(40.0);
    // A cost of 7 needs 5: both buckets, the second leaves at 170 s.
    assertThat(limiter.checkRateLimit("u", "/llm", 7).retryAfterSeconds()).isEqualTo(50.0);
    clock.setSeconds(160);
    assertThat(limiter.checkRateLimit("u", "/llm", 5).allowed()).isTrue();
  }

  @Test
  void checkRateLimitCost_tokenSizedCostsOverADay_doNotOverflow() {
    RateLimiter limiter = limiter(new RateLimitConfig(0, 0, 2_000_000_000, 0));
    for (int i = 0; i < 19; i++) {
      assertThat(limiter.checkRateLimit("u", "/llm", 100_000_000L).allowed()).isTrue();
      clock.advanceSeconds(3600);
    }
    RateLimitResult last = limiter.checkRateLimit("u", "/llm", 100_000_000L);
    assertThat(last.allowed()).isTrue();
    assertThat(last.remaining()).isZero();
    assertThat(limiter.checkRateLimit("u", "/llm", Long.MAX_VALUE).retryAfterSeconds())
        .isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(limiter.checkRateLimit("u", "/llm", 1).exceeded()).isTrue();
  }

  @Test
  void checkRateLimitCost_belowOne_isBadInput() {
    RateLimiter limiter = limiter(perMinute(10));
    assertThatThrownBy(() -> limiter.checkRateLimit("u", "/llm", 0L))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("cost must be >= 1 but was 0");
    assertThatThrownBy(() -> limiter.checkRateLimit("u", "/llm", -5L))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("cost must be >= 1 but was -5");
    assertThat(limiter.trackedKeys()).isZero();
  }
}
