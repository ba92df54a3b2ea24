package dev.controltower.spi.kit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.TokenReservation;
import dev.controltower.resources.WindowUsage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * semantics.md "Token budgets", value for value, on a fake clock at t = 100 s unless said otherwise:
 * reservations, refunds to their bucket, overshooting debits, admission refused by a full token
 * window, usage, reset and cleanup. Every store runs it.
 */
public abstract class TokenBudgetContract extends StoreContract {
  private final FakeClock clock = FakeClock.atSeconds(100);

  /** 10 requests per minute, the given tokens per minute, no hour or day windows. */
  private RateLimiter limiter(long tokensPerMinute) {
    return limiter(RateLimitConfig.builder().requestsPerMinute(10).requestsPerHour(0).requestsPerDay(0)
        .tokensPerMinute(tokensPerMinute).build(), clock);
  }

  private static long tokens(RateLimiter limiter, LimitType type) {
    return limiter.getUsage("u", "/llm").get(type).current();
  }

  @Test
  void reserveTokens_withinLimit_grantedAndCountedInTheTokenWindow() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 400);
    assertThat(r.granted()).isTrue();
    assertThat(r.tokens()).isEqualTo(400);
    assertThat(r.result()).isEqualTo(RateLimitResult.allowed(400, 1000, 600));
    assertThat(r.decision().window()).isEqualTo(LimitType.TOKENS_MINUTE);
    assertThat(r.decision().resetSeconds()).isEqualTo(60);
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.TOKENS_MINUTE)).isEqualTo(new WindowUsage(400, 1000, 600, 60));
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.MINUTE).current()).as("a reservation is not a request").isZero();
  }

  @Test
  void reserveTokens_moreThanTheRoom_refusedWithTheWaitAndCountsNothing() {
    RateLimiter limiter = limiter(1000);
    limiter.reserveTokens("u", "/llm", 800);
    clock.setSeconds(110);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 300);
    assertThat(r.granted()).isFalse();
    assertThat(r.tokens()).isZero();
    assertThat(r.result().limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
    assertThat(r.result().current()).isEqualTo(800);
    assertThat(r.result().limit()).isEqualTo(1000);
    assertThat(r.result().retryAfterSeconds()).isEqualTo(50.0);
    assertThat(r.result().reason()).isEqualTo("Token limit exceeded: 800/1000 tokens per minute, and this call reserves 300");
    assertThat(r.decision().violated()).containsExactly(LimitType.TOKENS_MINUTE);
    assertThat(r.decision().resetSeconds()).isEqualTo(50);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(800);
    assertThatThrownBy(() -> r.settle(0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("refused");
  }

  @Test
  void reserveTokens_aboveTheLimit_neverAdmittedAndCountsNothing() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 1001);
    assertThat(r.granted()).isFalse();
    assertThat(r.result().retryAfterSeconds()).isInfinite();
    assertThat(r.result().reason()).isEqualTo("a reservation of 1001 tokens exceeds the tokens-minute limit 1000 and can never be admitted");
    assertThat(r.decision().neverAdmitted()).isTrue();
    assertThat(limiter.trackedKeys()).isZero();
  }

  @Test
  void reserveTokens_severalWindows_allOrNoneAndNamesTheOneThatFreesLast() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().tokensPerMinute(1000).tokensPerHour(1500).build(), clock);
    assertThat(limiter.reserveTokens("u", "/llm", 900).granted()).isTrue();
    clock.setSeconds(200);
    // minute: 500; hour: 1400, all in its bucket [0, 360 s) whose last is now 200 s
    assertThat(limiter.reserveTokens("u", "/llm", 500).granted()).isTrue();
    clock.setSeconds(230);
    // minute needs 100 to leave (at 260 s), hour 500 (the whole bucket, at 3800 s)
    TokenReservation r = limiter.reserveTokens("u", "/llm", 600);
    assertThat(r.granted()).isFalse();
    assertThat(r.result().limitType()).isEqualTo(LimitType.TOKENS_HOUR);
    assertThat(r.result().retryAfterSeconds()).isEqualTo(3570.0);
    assertThat(r.decision().violated()).containsExactly(LimitType.TOKENS_MINUTE, LimitType.TOKENS_HOUR);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(500);
    assertThat(tokens(limiter, LimitType.TOKENS_HOUR)).isEqualTo(1400);
  }

  /** WindowMath's worked example: refund to the reservation's bucket, then an overshooting debit. */
  @Test
  void settle_lessThanReserved_refundsToItsBucket_thenAnOvershootRefusesRequestsUntilItFrees() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 800);
    clock.setSeconds(130);
    r.settle(300);
    assertThat(r.isSettled()).isTrue();
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(300);
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.TOKENS_MINUTE).resetInSeconds())
        .as("the refund leaves last_b at 100 s").isEqualTo(30);
    clock.setSeconds(131);
    limiter.recordTokens("u", "/llm", 900);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(1200);
    RateLimitResult refused = limiter.checkRateLimit("u", "/llm");
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
    assertThat(refused.current()).isEqualTo(1200);
    assertThat(refused.limit()).isEqualTo(1000);
    assertThat(refused.retryAfterSeconds()).isEqualTo(29.0);
    assertThat(refused.reason()).isEqualTo("Token limit exceeded: 1200/1000 tokens per minute");
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.MINUTE).current()).as("the refusal counted nothing").isZero();
    clock.setSeconds(160);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(900);
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).isTrue();
  }

  @Test
  void settle_moreThanReserved_debitsTheExcessOverTheLimit() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 900);
    r.settle(1150);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(1150);
    assertThat(limiter.reserveTokens("u", "/llm", 1).granted()).isFalse();
  }

  @Test
  void settle_afterItsBucketLeftTheWindow_refundsNothing() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 500);
    clock.setSeconds(150);
    limiter.recordTokens("u", "/llm", 300);
    clock.setSeconds(160.001);
    r.cancel();
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).as("the 300 of 150 s stay; nothing below them").isEqualTo(300);
  }

  @Test
  void settle_refundLargerThanItsBucketHolds_stopsAtZero() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 500);
    limiter.resetUser("u");
    clock.setSeconds(101);
    limiter.recordTokens("u", "/llm", 100); // the same bucket ([96, 102)) as the reservation
    r.cancel();
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isZero();
    limiter.recordTokens("u", "/llm", 50);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).as("never below 0: 0 + 50").isEqualTo(50);
  }

  @Test
  void settle_twice_throwsAndChangesNothing() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 500);
    r.settle(200);
    assertThatThrownBy(() -> r.settle(100)).isInstanceOf(IllegalStateException.class).hasMessageContaining("settled already");
    assertThatThrownBy(r::cancel).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> limiter.reserveTokens("u", "/llm", 1).settle(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("actualTokens must be >= 0 but was -1");
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(201);
  }

  @Test
  void cancel_givesEveryReservedTokenBack() {
    RateLimiter limiter = limiter(1000);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 1000);
    assertThat(limiter.reserveTokens("u", "/llm", 1).granted()).isFalse();
    r.cancel();
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isZero();
    assertThat(limiter.reserveTokens("u", "/llm", 1000).granted()).isTrue();
  }

  @Test
  void checkRateLimit_tokenWindowFullAtTheLimit_refusesNamingIt_belowTheLimit_admits() {
    RateLimiter limiter = limiter(1000);
    limiter.reserveTokens("u", "/llm", 999);
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).as("a request asks for no tokens").isTrue();
    limiter.recordTokens("u", "/llm", 1);
    RateLimitResult refused = limiter.checkRateLimit("u", "/llm", false);
    assertThat(refused.limitType()).as("a dry run checks it too").isEqualTo(LimitType.TOKENS_MINUTE);
    refused = limiter.checkRateLimit("u", "/llm");
    assertThat(refused.limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
    assertThat(refused.retryAfterSeconds()).isEqualTo(60.0);
    assertThat(limiter.decide("u", "/llm", true).violated()).containsExactly(LimitType.TOKENS_MINUTE);
    assertThat(limiter.getUsage("u", "/llm").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void checkRateLimit_rightAfterAReservationOrDebitFillsTheWindow_refused() {
    RateLimiter limiter = limiter(1000);
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).isTrue();
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).isTrue(); // a store may admit these without a lock
    assertThat(limiter.reserveTokens("u", "/llm", 1000).granted()).isTrue();
    assertThat(limiter.checkRateLimit("u", "/llm").limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
    clock.setSeconds(161);
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).isTrue();
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).isTrue();
    limiter.recordTokens("u", "/llm", 1000);
    assertThat(limiter.checkRateLimit("u", "/llm").limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
  }

  @Test
  void checkRateLimit_requestAndTokenWindowsBothFull_namesTheOneThatFreesLast() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(1).requestsPerHour(0).requestsPerDay(0)
        .tokensPerHour(100).build(), clock);
    assertThat(limiter.checkRateLimit("u", "/llm").allowed()).isTrue();
    limiter.recordTokens("u", "/llm", 100);
    RateLimitResult refused = limiter.checkRateLimit("u", "/llm");
    assertThat(refused.limitType()).isEqualTo(LimitType.TOKENS_HOUR);
    assertThat(refused.retryAfterSeconds()).isEqualTo(3600.0);
    assertThat(limiter.decide("u", "/llm", true).violated()).containsExactly(LimitType.MINUTE, LimitType.TOKENS_HOUR);
  }

  @Test
  void getUsage_tokenWindowsAndConcurrency_followTheRequestWindowsInOrder() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().burstSize(5).tokensPerMinute(1000).tokensPerDay(50_000)
        .maxConcurrentRequests(2).build(), clock);
    limiter.reserveTokens("u", "/llm", 10);
    Map<LimitType, WindowUsage> usage = limiter.getUsage("u", "/llm");
    assertThat(List.copyOf(usage.keySet())).containsExactly(LimitType.BURST, LimitType.MINUTE, LimitType.HOUR,
        LimitType.DAY, LimitType.TOKENS_MINUTE, LimitType.TOKENS_DAY, LimitType.CONCURRENCY);
    assertThat(usage.get(LimitType.TOKENS_DAY)).isEqualTo(new WindowUsage(10, 50_000, 49_990, 86_400));
    assertThat(usage.get(LimitType.CONCURRENCY)).isEqualTo(new WindowUsage(0, 2, 2, 0));
    assertThat(limiter.tokenBudget("u", "/llm")).get().satisfies(b -> {
      assertThat(b.window()).isEqualTo(LimitType.TOKENS_MINUTE);
      assertThat(b.remaining()).isEqualTo(990);
      assertThat(b.resetMillis()).isEqualTo(60_000);
    });
  }

  @Test
  void resetUser_clearsAndCountsTheTokenWindows() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().tokensPerMinute(1000).tokensPerHour(5000).build(), clock);
    limiter.checkRateLimit("u", "/llm");
    limiter.recordTokens("u", "/llm", 700);
    limiter.recordTokens("other", "/llm", 700);
    assertThat(limiter.resetUser("u")).as("minute, hour, day, tokens-minute, tokens-hour").isEqualTo(5);
    assertThat(tokens(limiter, LimitType.TOKENS_HOUR)).isZero();
    assertThat(limiter.getUsage("other", "/llm").get(LimitType.TOKENS_HOUR).current()).isEqualTo(700);
  }

  @Test
  void cleanupExpired_pairWhoseTokenWindowStillCounts_isKept() {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(10).requestsPerHour(0).requestsPerDay(0)
        .tokensPerHour(5000).build(), clock);
    limiter.checkRateLimit("u", "/llm");
    limiter.recordTokens("u", "/llm", 10);
    clock.setSeconds(1000);
    assertThat(limiter.cleanupExpired()).isZero();
    assertThat(tokens(limiter, LimitType.TOKENS_HOUR)).isEqualTo(10);
    clock.setSeconds(3700);
    assertThat(limiter.cleanupExpired()).isEqualTo(1);
  }

  @Test
  void tokenCalls_withoutTokenWindows_grantAndCountNothing() {
    RateLimiter limiter = limiter(RateLimitConfig.defaults(), clock);
    TokenReservation r = limiter.reserveTokens("u", "/api", 1_000_000);
    assertThat(r.granted()).isTrue();
    r.settle(2_000_000);
    limiter.recordTokens("u", "/api", 5);
    assertThat(limiter.trackedKeys()).isZero();
    assertThat(limiter.tokenBudget("u", "/api")).isEmpty();
    assertThat(limiter.getUsage("u", "/api")).containsOnlyKeys(LimitType.MINUTE, LimitType.HOUR, LimitType.DAY);
    assertThatThrownBy(() -> limiter.reserveTokens("u", "/api", -1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokens must be >= 0 but was -1");
  }

  @Test
  void reserveTokens_endpointConfig_winsOverTheUsers() {
    RateLimiter limiter = limiter(RateLimitConfig.defaults(), clock);
    limiter.setUserLimits("u", RateLimitConfig.builder().tokensPerMinute(100).build());
    limiter.setEndpointLimits("/big", RateLimitConfig.builder().tokensPerMinute(10_000).build());
    assertThat(limiter.reserveTokens("u", "/small", 101).granted()).isFalse();
    assertThat(limiter.reserveTokens("u", "/big", 5_000).granted()).isTrue();
  }

  @Test
  void reserveTokens_clockSteppedBack_refundFindsTheBucketItWentTo() {
    RateLimiter limiter = limiter(1000);
    limiter.checkRateLimit("u", "/llm"); // the pair stands at 100 s
    clock.setSeconds(90);
    TokenReservation r = limiter.reserveTokens("u", "/llm", 600); // counted at the pair's 100 s
    clock.setSeconds(95);
    r.settle(100);
    assertThat(tokens(limiter, LimitType.TOKENS_MINUTE)).isEqualTo(100);
  }
}
