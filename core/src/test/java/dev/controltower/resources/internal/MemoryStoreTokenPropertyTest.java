package dev.controltower.resources.internal;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.TokenPropertyContract;
import java.time.InstantSource;

/** The store contract's {@link TokenPropertyContract} on the in-memory store (bounded at 1,000 pairs). */
class MemoryStoreTokenPropertyTest extends TokenPropertyContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new MemoryWindowStore(clock, 1_000, bucketCount);
  }
}
