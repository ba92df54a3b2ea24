package dev.controltower.resources;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** After the clock steps back, an actively used pair must not expire and forget its counts. */
class ClockStepBackExpiryTest {
  @Test
  void activePair_afterClockStepsBack_keepsItsCounts() {
    FakeClock clock = FakeClock.atSeconds(1_000_000);
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(10).requestsPerHour(0).requestsPerDay(0).build())
        .clock(clock).build();
    int admitted = 0;
    assertThat(limiter.checkRateLimit("u", "/e").allowed()).isTrue();   // t = 1,000,000 s
    clock.setSeconds(999_900);                                         // NTP steps the clock back 100 s
    limiter.getUsage("u", "/e");                                       // any locked call (dashboard, dry run, config change)
    long t0 = clock.millis();
    for (int i = 0; i < 6; i++) {                                      // 999,900 .. 999,950: one request every 10 s
      RateLimitResult r = limiter.checkRateLimit("u", "/e");
      System.out.println(clock.millis() / 1000 + " " + r);
      if (r.allowed()) {
        admitted++;
      }
      clock.advanceSeconds(10);
    }
    clock.setSeconds(999_970);
    limiter.checkRateLimit("someone-else", "/e");                      // other traffic runs the store's maintenance
    limiter.cleanUp();
    for (int i = 0; i < 20; i++) {                                     // at 999,970 s
      RateLimitResult r = limiter.checkRateLimit("u", "/e");
      System.out.println(clock.millis() / 1000 + " " + r);
      if (r.allowed()) {
        admitted++;
      }
    }
    // All of these fall within 70 s of clock time; the 60 s window from 999,910 s alone holds them all but one.
    System.out.println("admitted after the step back, within 70 s: " + admitted + " (limit 10, 1 counted before)");
    assertThat(admitted).as("admissions within [999,900 s, 999,970 s]").isLessThanOrEqualTo(9);
  }

  @Test
  void exhaustedPair_idleAfterClockStepsBack_staysRejectedWhileItsCountsLast() {
    FakeClock clock = FakeClock.atSeconds(1_000_000);
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(0).requestsPerDay(0).build())
        .clock(clock).build();
    for (int i = 0; i < 3; i++) {
      assertThat(limiter.checkRateLimit("u", "/e").allowed()).isTrue();     // t = 1,000,000 s, bucket ends 1,000,002 s
    }
    clock.setSeconds(999_900);                                            // the clock steps back 100 s
    assertThat(limiter.checkRateLimit("u", "/e").allowed()).isFalse();     // counted until 1,000,062 s
    clock.setSeconds(999_970);                                            // idle 70 s by the clock, still counted
    limiter.checkRateLimit("someone-else", "/e");
    limiter.cleanUp();
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(3);
    assertThat(limiter.checkRateLimit("u", "/e").allowed()).isFalse();
    clock.setSeconds(1_000_062);                                          // the counts leave the window
    limiter.cleanUp();
    assertThat(limiter.checkRateLimit("u", "/e").allowed()).isTrue();
  }
}
