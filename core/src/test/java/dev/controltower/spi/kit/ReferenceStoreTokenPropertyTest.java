package dev.controltower.spi.kit;

import dev.controltower.spi.WindowStore;
import java.time.InstantSource;

/** The oracle passes the {@link TokenPropertyContract} too. */
class ReferenceStoreTokenPropertyTest extends TokenPropertyContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new ReferenceStore();
  }
}
