package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.RateLimiterSemanticsContract;
import java.time.InstantSource;

/** The kit's RateLimiterSemanticsContract against a real redis-server, with the store as configured by default. */
class RedisRateLimiterSemanticsTest extends RateLimiterSemanticsContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
