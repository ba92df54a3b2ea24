package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.ConcurrencyPermit;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.TokenReservation;
import dev.controltower.spi.kit.FakeClock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Token budgets and concurrency limits on Redis (they were refused at configuration before the script
 * counted them): accepted when configured, and shared by every instance on the same Redis: tokens one
 * instance reserves, refunds or debits are seen by the next, permits are counted across instances, and
 * a permit whose holder died (never released) ends with its lease, in Redis's own time, key and all.
 */
class RedisTokenAndConcurrencySharingTest {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private final FakeClock clock = FakeClock.atSeconds(100);

  private static String freshPrefix() {
    return "share" + PREFIXES.incrementAndGet() + ":";
  }

  /** An instance's store on the shared server under {@code prefix}; on {@code clock}, or on TIME if null. */
  private static RedisWindowStore store(String prefix, InstantSource clock) {
    RedisWindowStore.Builder b = RedisWindowStore.builder().uri(RedisServer.shared().uri()).keyPrefix(prefix)
        .timeout(Duration.ofSeconds(2));
    return (clock == null ? b : b.clockForTests(clock)).build();
  }

  private RateLimiter limiter(RedisWindowStore store, RateLimitConfig config) {
    return RateLimiter.builder().clock(clock).store(store).defaultConfig(config).build();
  }

  @Test
  void tokenWindowsOnRedis_acceptedAndSharedByTwoInstances_refundsSeenAtOnce() {
    String prefix = freshPrefix();
    RateLimitConfig config = RateLimitConfig.builder().requestsPerMinute(100).tokensPerMinute(1000).build();
    try (RedisWindowStore a = store(prefix, clock); RedisWindowStore b = store(prefix, clock)) {
      assertThat(a.countsTokens()).isTrue();
      RateLimiter one = limiter(a, config);
      RateLimiter two = limiter(b, config);
      TokenReservation big = one.reserveTokens("u", "/llm", 600);
      assertThat(big.granted()).isTrue();
      assertThat(two.reserveTokens("u", "/llm", 600).granted()).as("the other instance sees the 600").isFalse();
      assertThat(two.getUsage("u", "/llm").get(LimitType.TOKENS_MINUTE).current()).isEqualTo(600);
      two.recordTokens("u", "/llm", 400);
      // The token window is full: the second instance refuses requests (and caches no such refusal).
      assertThat(two.checkRateLimit("u", "/llm").limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
      assertThat(two.checkRateLimit("u", "/llm").limitType()).isEqualTo(LimitType.TOKENS_MINUTE);
      big.settle(100); // refunds 500 on the first instance
      assertThat(two.checkRateLimit("u", "/llm").allowed()).as("a refund elsewhere ends the refusal at once")
          .isTrue();
      assertThat(two.getUsage("u", "/llm").get(LimitType.TOKENS_MINUTE).current()).isEqualTo(500);
      assertThat(two.reserveTokens("u", "/llm", 500).granted()).isTrue();
      assertThat(b.counters().cachedRefusals()).isZero();
    }
  }

  @Test
  void concurrencyLimitOnRedis_acceptedAndCountedAcrossInstances() {
    String prefix = freshPrefix();
    RateLimitConfig config = RateLimitConfig.builder().maxConcurrentRequests(2).build();
    try (RedisWindowStore a = store(prefix, clock); RedisWindowStore b = store(prefix, clock)) {
      assertThat(a.countsPermits()).isTrue();
      RateLimiter one = limiter(a, RateLimitConfig.defaults());
      one.setUserLimits("u", config); // refused at configuration before
      RateLimiter two = limiter(b, config);
      ConcurrencyPermit first = one.acquirePermit("u", "/run", Duration.ofMinutes(5));
      ConcurrencyPermit second = two.acquirePermit("u", "/run", Duration.ofMinutes(5));
      assertThat(first.granted()).isTrue();
      assertThat(second.granted()).isTrue();
      ConcurrencyPermit third = one.acquirePermit("u", "/run", Duration.ofMinutes(5));
      assertThat(third.granted()).isFalse();
      assertThat(third.result().current()).isEqualTo(2);
      assertThat(second.release()).isTrue();
      assertThat(one.getUsage("u", "/run").get(LimitType.CONCURRENCY).current()).isEqualTo(1);
      assertThat(one.acquirePermit("u", "/run", Duration.ofMinutes(5)).granted()).isTrue();
    }
  }

  @Test
  void permitOfADeadHolder_endsWithItsLease_inRedisTime_andItsKeyExpires() throws Exception {
    String prefix = freshPrefix();
    RateLimitConfig config = RateLimitConfig.builder().maxConcurrentRequests(1).build();
    Duration lease = Duration.ofSeconds(2);
    RedisWindowStore dying = store(prefix, null);
    RateLimiter crashed = RateLimiter.builder().store(dying).defaultConfig(config).build();
    assertThat(crashed.acquirePermit("u", "/run", lease).granted()).isTrue();
    long taken = System.nanoTime();
    dying.close(); // the instance dies holding the permit: no release ever comes
    try (RedisWindowStore survivor = store(prefix, null)) {
      RateLimiter other = RateLimiter.builder().store(survivor).defaultConfig(config).build();
      assertThat(other.acquirePermit("u", "/run", lease).granted()).as("still leased").isFalse();
      assertThat((List<?>) RedisServer.shared().command("KEYS", prefix + "c:*")).hasSize(1);
      Thread.sleep(Math.max(0, lease.toMillis() + 50 - (System.nanoTime() - taken) / 1_000_000));
      assertThat(other.getUsage("u", "/run").get(LimitType.CONCURRENCY).current()).as("expired").isZero();
      assertThat((List<?>) RedisServer.shared().command("KEYS", prefix + "c:*")).as("the key expired too")
          .isEmpty();
      ConcurrencyPermit p = other.acquirePermit("u", "/run", lease);
      assertThat(p.granted()).isTrue();
      assertThat(p.release()).isTrue();
      assertThat((List<?>) RedisServer.shared().command("KEYS", prefix + "c:*")).as("an empty set is no key")
          .isEmpty();
    }
  }
}
