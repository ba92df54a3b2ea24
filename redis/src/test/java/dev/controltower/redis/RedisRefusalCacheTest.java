package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.kit.FakeClock;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The local cache of refused pairs: no round trip while it holds, and never an admission Redis refuses. */
class RedisRefusalCacheTest {
  private static final WindowPlan THREE_PER_MINUTE = WindowPlan.of(new RateLimitConfig(3, 0, 0, 0), 10);

  @Test
  void acquire_hammeringARefusedPair_costsNoRoundTripUntilItsWaitPasses() {
    FakeClock clock = FakeClock.atSeconds(100);
    RedisServer redis = RedisServer.shared();
    try (RedisWindowStore store = RedisStores.onShared(clock).build()) {
      for (int i = 0; i < 3; i++) {
        assertThat(store.acquire("u", "/e", THREE_PER_MINUTE, 1, 100_000 + i).admitted()).isTrue();
      }
      Outcome refused = store.acquire("u", "/e", THREE_PER_MINUTE, 1, 100_010);
      assertThat(refused.admitted()).isFalse();
      assertThat(refused.waitMillis(0)).isEqualTo(59_992);
      long before = redis.calls("evalsha");
      for (int i = 0; i < 10_000; i++) {
        Outcome cached = store.acquire("u", "/e", THREE_PER_MINUTE, 1, 100_010 + i);
        assertThat(cached.admitted()).isFalse();
        assertThat(cached.waitMillis(0)).isEqualTo(59_992 - i);
      }
      assertThat(redis.calls("evalsha")).as("round trips while cached").isEqualTo(before);
      assertThat(store.counters().cachedRefusals()).isEqualTo(10_000);
      // The three share one bucket (last 100,002 ms): once it has left the window, Redis is asked again, and admits.
      assertThat(store.acquire("u", "/e", THREE_PER_MINUTE, 1, 160_002).admitted()).isTrue();
      assertThat(redis.calls("evalsha")).isEqualTo(before + 1);
    }
  }

  @Test
  void acquire_twoInstancesWithCaches_neverAdmitWhatRedisRefuses() {
    FakeClock clock = FakeClock.atSeconds(100);
    RedisWindowStore.Builder first = RedisStores.onShared(clock);
    String prefix = "shared-" + System.nanoTime() + ":";
    SplittableRandom random = new SplittableRandom(5);
    WindowPlan plan = WindowPlan.of(new RateLimitConfig(7, 20, 0, 3), 10);
    try (RedisWindowStore a = RedisWindowStore.builder().uri(RedisServer.shared().uri()).keyPrefix(prefix)
            .clockForTests(clock).timeout(java.time.Duration.ofSeconds(2)).build();
        RedisWindowStore b = RedisWindowStore.builder().uri(RedisServer.shared().uri()).keyPrefix(prefix)
            .clockForTests(clock).timeout(java.time.Duration.ofSeconds(2)).build();
        RedisWindowStore truth = RedisWindowStore.builder().uri(RedisServer.shared().uri()).keyPrefix(prefix)
            .clockForTests(clock).timeout(java.time.Duration.ofSeconds(2)).refusalCacheSize(0).build()) {
      first.build().close();
      long now = 100_000;
      int cachedAnswers = 0;
      for (int i = 0; i < 5_000; i++) {
        now += random.nextInt(10) == 0 ? random.nextInt(20_000) : random.nextInt(200);
        RedisWindowStore instance = random.nextBoolean() ? a : b;
        long cost = 1 + random.nextInt(2);
        long cachedBefore = instance.counters().cachedRefusals();
        Outcome answer = instance.acquire("u", "/e", plan, cost, now);
        if (instance.counters().cachedRefusals() > cachedBefore) {
          cachedAnswers++;
          assertThat(answer.admitted()).isFalse();
          assertThat(truth.check("u", "/e", plan, cost, now).admitted())
              .as("step %d: a cached refusal where Redis would admit", i).isFalse();
        }
      }
      assertThat(cachedAnswers).isGreaterThan(500);
    }
  }
}
