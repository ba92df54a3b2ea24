package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.KeyFloodContract;
import java.time.InstantSource;

/** The kit's KeyFloodContract against a real redis-server, with the store as configured by default. */
class RedisKeyFloodTest extends KeyFloodContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
