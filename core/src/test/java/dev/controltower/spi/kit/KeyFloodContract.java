package dev.controltower.spi.kit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import org.junit.jupiter.api.Test;

/**
 * A client that invents keys (a flood of distinct users) never resets its own exhausted window, and
 * never makes any other client's count wrong: a bounded store drops what it must, never what is at its
 * limit.
 */
public abstract class KeyFloodContract extends StoreContract {
  /** How many distinct keys the flood invents: well above any bound a test store is built with. */
  protected int floodKeys() {
    return 20_000;
  }

  @Test
  void checkRateLimit_attackerFloodsOtherKeys_ownWindowStaysRejected() {
    FakeClock clock = FakeClock.atSeconds(100);
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(5).build(), clock);
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.checkRateLimit("attacker", "/api/x").allowed()).isTrue();
    }
    int flood = floodKeys();
    for (int i = 0; i < flood; i++) {
      limiter.checkRateLimit("attacker-sock-" + i, "/api/x");
      if (i % 100 == 0) {
        clock.advanceMillis(10);
        limiter.cleanUp();
        assertThat(limiter.checkRateLimit("attacker", "/api/x").exceeded())
            .as("attacker after %d invented keys", i).isTrue();
      }
    }
    limiter.cleanUp();
    assertThat(limiter.getUsage("attacker", "/api/x").get(LimitType.MINUTE).current()).isEqualTo(5);
    assertThat(limiter.checkRateLimit("attacker", "/api/x").retryAfterSeconds())
        .isEqualTo(60.0 - ((flood - 1) / 100 + 1) * 0.01);
  }

  @Test
  void checkRateLimit_floodOfWeightedKeys_neverAdmitsAnExhaustedPairsCost() {
    FakeClock clock = FakeClock.atSeconds(100);
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(1000).build(), clock);
    assertThat(limiter.checkRateLimit("spender", "/llm", 1000).allowed()).isTrue();
    int flood = floodKeys();
    for (int i = 0; i < flood; i++) {
      limiter.checkRateLimit("inventor-" + i, "/llm", 7);
      if (i % 250 == 0) {
        limiter.cleanUp();
        assertThat(limiter.checkRateLimit("spender", "/llm", 1).exceeded()).as("after %d keys", i).isTrue();
      }
    }
  }
}
