package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.TokenBudgetContract;
import java.time.InstantSource;

/** The kit's TokenBudgetContract against a real redis-server, with the store as configured by default. */
class RedisTokenBudgetTest extends TokenBudgetContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
