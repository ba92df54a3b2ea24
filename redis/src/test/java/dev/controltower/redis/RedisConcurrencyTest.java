package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.ConcurrencyContract;
import java.time.InstantSource;

/** The kit's ConcurrencyContract against a real redis-server, with the store as configured by default. */
class RedisConcurrencyTest extends ConcurrencyContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
