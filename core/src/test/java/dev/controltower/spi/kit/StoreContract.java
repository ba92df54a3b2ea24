package dev.controltower.spi.kit;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.spi.WindowStore;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/**
 * The base of the store contract kit: one hook that makes a fresh, empty store, and limiters over it.
 * A store's module runs every contract of the kit by extending each with that hook: the same tests,
 * value for value, for every store.
 */
public abstract class StoreContract {
  private final List<WindowStore> made = new ArrayList<>();

  /**
   * A new, empty store whose time is {@code clock}: the limiter passes its reading as {@code now}; a
   * store with a clock of its own takes this one through its test hook.
   */
  protected abstract WindowStore newStore(InstantSource clock, int bucketCount);

  /** A new store, closed after the test. */
  protected final WindowStore store(InstantSource clock, int bucketCount) {
    WindowStore store = newStore(clock, bucketCount);
    made.add(store);
    return store;
  }

  /** A limiter with the default bucket count (10) over a new store. */
  protected final RateLimiter limiter(RateLimitConfig config, InstantSource clock) {
    return limiter(config, clock, 10);
  }

  /** A limiter over a new store. */
  protected final RateLimiter limiter(RateLimitConfig config, InstantSource clock, int bucketCount) {
    return RateLimiter.builder().defaultConfig(config).clock(clock).bucketCount(bucketCount)
        .store(store(clock, bucketCount)).build();
  }

  @AfterEach
  void closeStores() {
    for (WindowStore store : made) {
      store.close();
    }
    made.clear();
  }
}
