package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.spi.kit.FakeClock;
import org.junit.jupiter.api.Test;

/**
 * Token budgets and concurrency limits are not in the Redis script yet: a config that enables them is
 * refused when it is given, never at a request.
 */
class RedisUnsupportedLimitsTest {
  private final FakeClock clock = FakeClock.atSeconds(100);

  @Test
  void tokenWindowsOnRedis_refusedWhenConfigured() {
    try (RedisWindowStore store = RedisStores.onShared(clock).build()) {
      RateLimitConfig tokens = RateLimitConfig.builder().tokensPerMinute(20_000).build();
      assertThatThrownBy(() -> RateLimiter.builder().clock(clock).store(store).defaultConfig(tokens).build())
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token windows")
          .hasMessageContaining("RedisWindowStore does not yet");
      RateLimiter limiter = RateLimiter.builder().clock(clock).store(store).build();
      assertThatThrownBy(() -> limiter.setEndpointLimits("/llm", tokens))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token windows");
    }
  }

  @Test
  void concurrencyLimitOnRedis_refusedWhenConfigured() {
    try (RedisWindowStore store = RedisStores.onShared(clock).build()) {
      RateLimiter limiter = RateLimiter.builder().clock(clock).store(store).build();
      assertThatThrownBy(() -> limiter.setUserLimits("u",
          RateLimitConfig.builder().maxConcurrentRequests(2).build()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConcurrentRequests 2");
    }
  }
}
