package dev.controltower.spi.kit;

import dev.controltower.spi.WindowStore;
import java.time.InstantSource;

/** The oracle itself passes the semantics cases: it is the rule, and it is checked too. */
class ReferenceStoreSemanticsTest extends RateLimiterSemanticsContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new ReferenceStore();
  }
}
