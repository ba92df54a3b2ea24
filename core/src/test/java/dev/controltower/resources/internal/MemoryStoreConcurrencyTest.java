package dev.controltower.resources.internal;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.ConcurrencyContract;
import java.time.InstantSource;

/** The store contract's {@link ConcurrencyContract} on the in-memory store (bounded at 1,000 pairs). */
class MemoryStoreConcurrencyTest extends ConcurrencyContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new MemoryWindowStore(clock, 1_000, bucketCount);
  }
}
