package dev.controltower.redis;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.TokenPropertyContract;
import java.time.InstantSource;
import org.junit.jupiter.api.BeforeAll;

/** The kit's TokenPropertyContract against a real redis-server, with the store as configured by default. */
class RedisTokenPropertyTest extends TokenPropertyContract {
  @BeforeAll
  static void emptyTheSharedServer() {
    RedisServer.shared().flushAll(); // its cleanups and resets scan every key on the server
  }

  @Override
  protected WindowStore newStore(InstantSource clock, int bucketCount) {
    return RedisStores.onShared(clock).build();
  }
}
