package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.ConcurrencyLimitContract;
import java.time.InstantSource;

/** The kit's ConcurrencyLimitContract against a real redis-server, with the store as configured by default. */
class RedisConcurrencyLimitTest extends ConcurrencyLimitContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
