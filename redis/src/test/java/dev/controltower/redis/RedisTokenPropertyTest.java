package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.TokenPropertyContract;
import java.time.InstantSource;

/** The kit's TokenPropertyContract against a real redis-server, with the store as configured by default. */
class RedisTokenPropertyTest extends TokenPropertyContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
