package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.StoreUnavailableException;
import dev.controltower.spi.TokenGrant;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowStore;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Token and permit calls while Redis is gone follow the fail mode as acquire does: {@code local}
 * counts them in the in-process store, {@code open} grants and counts nothing, {@code closed} throws
 * {@link StoreUnavailableException}; except a permit's release, which never throws (the permit ends
 * with its lease in Redis).
 */
class RedisTokenFailModeTest {
  private static final WindowPlan PLAN =
      WindowPlan.of(RateLimitConfig.builder().tokensPerMinute(1000).maxConcurrentRequests(1).build(), 10);

  @ParameterizedTest
  @EnumSource(FailMode.class)
  void tokenAndPermitCalls_redisGone_followTheFailMode(FailMode mode) {
    try (RedisServer redis = RedisServer.start();
        RedisWindowStore store = RedisWindowStore.builder().uri(redis.uri()).failMode(mode)
            // the first connection on two busy cores (class loading included) may take seconds
            .connectTimeout(Duration.ofSeconds(10)).timeout(Duration.ofSeconds(2)).build()) {
      long now = System.currentTimeMillis();
      assertThat(store.reserveTokens("u", "/e", PLAN, 600, now).outcome().admitted()).isTrue();
      long inRedis = store.acquirePermit("u", "/e", 1, 60_000, now);
      assertThat(inRedis).isNotNegative();
      assertThat(store.counters().failures()).as("Redis answered those").isZero();
      redis.kill();
      switch (mode) {
        case LOCAL -> {
          TokenGrant local = store.reserveTokens("u", "/e", PLAN, 600, now);
          assertThat(local.outcome().admitted()).as("the in-process store starts empty").isTrue();
          assertThat(store.reserveTokens("u", "/e", PLAN, 600, now).outcome().admitted()).isFalse();
          store.refundTokens("u", "/e", PLAN, 200, local.countedAt(), now);
          store.debitTokens("u", "/e", PLAN, 50, now);
          assertThat(store.readTokens("u", "/e", PLAN, now).counts()).containsExactly(450);
          long permit = store.acquirePermit("u", "/e", 1, 60_000, now);
          assertThat(permit).isNotNegative();
          assertThat(store.acquirePermit("u", "/e", 1, 60_000, now)).isEqualTo(WindowStore.NO_PERMIT);
          assertThat(store.permitsHeld("u", "/e", now)).isEqualTo(1);
          assertThat(store.releasePermit("u", "/e", inRedis, now)).isFalse();
          assertThat(store.releasePermit("u", "/e", permit, now)).isTrue();
          assertThat(store.counters().localDecisions()).isPositive();
        }
        case OPEN -> {
          TokenGrant open = store.reserveTokens("u", "/e", PLAN, 600, now);
          assertThat(open.outcome().admitted()).isTrue();
          assertThat(open.outcome().remaining()).isEqualTo(1000);
          store.refundTokens("u", "/e", PLAN, 600, open.countedAt(), now);
          store.debitTokens("u", "/e", PLAN, 50, now);
          assertThat(store.readTokens("u", "/e", PLAN, now).counts()).containsExactly(0);
          long permit = store.acquirePermit("u", "/e", 1, 60_000, now);
          assertThat(permit).isNotNegative();
          assertThat(store.permitsHeld("u", "/e", now)).isZero();
          assertThat(store.releasePermit("u", "/e", permit, now)).isFalse();
          assertThat(store.counters().openAdmits()).isPositive();
        }
        case CLOSED -> {
          assertThatThrownBy(() -> store.reserveTokens("u", "/e", PLAN, 1, now))
              .isInstanceOf(StoreUnavailableException.class);
          assertThatThrownBy(() -> store.refundTokens("u", "/e", PLAN, 1, now, now))
              .isInstanceOf(StoreUnavailableException.class);
          assertThatThrownBy(() -> store.debitTokens("u", "/e", PLAN, 1, now))
              .isInstanceOf(StoreUnavailableException.class);
          assertThatThrownBy(() -> store.readTokens("u", "/e", PLAN, now))
              .isInstanceOf(StoreUnavailableException.class);
          assertThatThrownBy(() -> store.acquirePermit("u", "/e", 1, 60_000, now))
              .isInstanceOf(StoreUnavailableException.class);
          assertThatThrownBy(() -> store.permitsHeld("u", "/e", now))
              .isInstanceOf(StoreUnavailableException.class);
          assertThat(store.releasePermit("u", "/e", inRedis, now)).as("never throws").isFalse();
        }
      }
    }
  }
}
