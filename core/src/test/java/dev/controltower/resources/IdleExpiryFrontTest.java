package dev.controltower.resources;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdleExpiryFrontTest {
  @Test
  void claimedPair_expiresOnceItsWindowsCountNothing() {
    for (int limit : new int[] {10, 100, 1000}) {
      FakeClock clock = FakeClock.atSeconds(100);
      RateLimiter limiter = RateLimiter.builder()
          .defaultConfig(RateLimitConfig.builder().requestsPerMinute(limit).requestsPerHour(0).requestsPerDay(0).build())
          .clock(clock).build();
      long last = 0;
      for (int i = 0; i < 5000; i++) {
        if (limiter.checkRateLimit("u", "/e").allowed()) {
          last = clock.millis();
        }
        if (i % 50 == 0) {
          clock.advanceMillis(37); // stays within ~1.85 s: same 6 s bucket mostly
        }
      }
      long countedUntil = last + 60_000; // the latest admission of the pair's only bucket, plus W
      clock.setMillis(countedUntil - 1);
      limiter.cleanUp();
      assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).as("still counted, limit %d", limit).isPositive();
      clock.setMillis(countedUntil + 66_001);
      limiter.cleanUp();
      assertThat(limiter.trackedKeys()).as("limit %d", limit).isZero();
    }
  }
}
