package dev.controltower.resources.internal;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.ConcurrencyLimitContract;
import java.time.InstantSource;

/** The store contract's {@link ConcurrencyLimitContract} on the in-memory store (bounded at 1,000 pairs). */
class MemoryStoreConcurrencyLimitTest extends ConcurrencyLimitContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new MemoryWindowStore(clock, 1_000, bucketCount);
  }
}
