package dev.controltower.spi.kit;

import dev.controltower.spi.WindowStore;
import java.time.InstantSource;

/** The oracle passes the {@link TokenBudgetContract} too. */
class ReferenceStoreTokenBudgetTest extends TokenBudgetContract {
  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return new ReferenceStore();
  }
}
