package dev.controltower.resources;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A flood of invented keys cannot grow memory past the bound, nor reset an attacker's own window. */
class RateLimiterMemoryTest {
  private static final int BOUND = 1_000;

  @Test
  void checkRateLimit_tenTimesTheBoundInDistinctKeys_sizeStaysWithinBound() {
    FakeClock clock = FakeClock.atSeconds(100);
    RateLimiter limiter = RateLimiter.builder().clock(clock).maximumKeys(BOUND).build();
    for (int i = 0; i < 20 * BOUND; i++) {
      limiter.checkRateLimit("flood-" + i, "/api/x");
    }
    limiter.cleanUp();
    assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(BOUND).isGreaterThan(0);
  }

  @Test
  void checkRateLimit_attackerFloodsOtherKeys_ownWindowStaysRejected() {
    FakeClock clock = FakeClock.atSeconds(100);
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(5).build())
        .clock(clock).maximumKeys(BOUND).build();
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.checkRateLimit("attacker", "/api/x").allowed()).isTrue();
    }
    for (int i = 0; i < 20 * BOUND; i++) {
      limiter.checkRateLimit("attacker-sock-" + i, "/api/x");
      if (i % 100 == 0) {
        clock.advanceMillis(10);
        limiter.cleanUp();
        assertThat(limiter.checkRateLimit("attacker", "/api/x").exceeded())
            .as("attacker after %d invented keys", i).isTrue();
      }
    }
    limiter.cleanUp();
    assertThat(limiter.trackedKeys()).isLessThanOrEqualTo(BOUND);
    assertThat(limiter.getUsage("attacker", "/api/x").get(LimitType.MINUTE).current()).isEqualTo(5);
  }
}
