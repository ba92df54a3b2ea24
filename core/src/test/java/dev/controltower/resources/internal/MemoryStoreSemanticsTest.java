package dev.controltower.resources.internal;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.RateLimiterSemanticsContract;
import java.time.InstantSource;

/** The store contract's {@link RateLimiterSemanticsContract} on the in-memory store (bounded at 1,000 pairs). */
class MemoryStoreSemanticsTest extends RateLimiterSemanticsContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new MemoryWindowStore(clock, 1_000, bucketCount);
  }
}
