package dev.controltower.spi.kit;

import dev.controltower.spi.WindowStore;
import java.time.InstantSource;

/** The oracle passes the {@link ConcurrencyLimitContract} too. */
class ReferenceStoreConcurrencyLimitTest extends ConcurrencyLimitContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new ReferenceStore();
  }
}
