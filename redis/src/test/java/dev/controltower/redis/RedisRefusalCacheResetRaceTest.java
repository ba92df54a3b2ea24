package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.kit.FakeClock;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A refusal that Redis gave before a reset of the user must not be kept in the refused-pair cache
 * after the reset: it would refuse, from the cache and without asking Redis, a user that the reset has
 * just cleared, until the first count of the refusal would have changed (up to a day's oldest bucket).
 * resetUser cleared the cache before the reset, so a step in flight across the reset put its stale
 * refusal back afterwards.
 */
class RedisRefusalCacheResetRaceTest {
  private static final WindowPlan ONE = WindowPlan.of(new RateLimitConfig(1, 0, 0, 0), 10);
  private static final WindowPlan ONE_AND_HOUR = WindowPlan.of(new RateLimitConfig(1, 100, 0, 0), 10);

  @Test
  void resetUser_withADryRunInFlight_leavesNoStaleRefusalInTheCache() throws Exception {
    FakeClock clock = FakeClock.atSeconds(100);
    try (RedisWindowStore store = RedisStores.onShared(clock).build()) {
      int stale = 0;
      for (int round = 0; round < 300 && stale == 0; round++) {
        String user = "u" + round;
        assertThat(store.acquire(user, "/e", ONE_AND_HOUR, 1, 100_000).admitted()).isTrue();
        AtomicBoolean stop = new AtomicBoolean();
        // Dry runs count nothing in Redis; two plans, so that each misses the cache and asks Redis.
        Thread hammer = new Thread(() -> {
          for (int i = 0; !stop.get(); i++) {
            store.check(user, "/e", i % 2 == 0 ? ONE : ONE_AND_HOUR, 1, 100_001);
          }
        });
        hammer.start();
        Thread.sleep(0, 200_000);
        store.resetUser(user);
        stop.set(true);
        hammer.join();
        // Redis holds nothing of the user now: both plans admit.
        if (!store.check(user, "/e", ONE, 1, 100_002).admitted()
            || !store.check(user, "/e", ONE_AND_HOUR, 1, 100_002).admitted()) {
          stale = round + 1;
        }
      }
      assertThat(stale).as("the round (1-based) after whose reset the cache still refused; 0: none").isZero();
    }
  }
}
