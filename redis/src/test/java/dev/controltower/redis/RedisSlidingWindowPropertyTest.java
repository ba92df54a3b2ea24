package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.SlidingWindowPropertyContract;
import java.time.InstantSource;

/** The kit's SlidingWindowPropertyContract against a real redis-server, with the store as configured by default. */
class RedisSlidingWindowPropertyTest extends SlidingWindowPropertyContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
