package dev.controltower.redis;

import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;

/** Stores for tests: each on the shared server under a key prefix of its own, so tests never meet. */
final class RedisStores {
  private static final AtomicInteger PREFIXES = new AtomicInteger();

  private RedisStores() {}

  /** A builder on the shared server with a fresh prefix and the test's clock. */
  static RedisWindowStore.Builder onShared(InstantSource clock) {
    return RedisWindowStore.builder().uri(RedisServer.shared().uri())
        .keyPrefix("t" + PREFIXES.incrementAndGet() + ":").clockForTests(clock)
        // Tests run on 2 busy cores: a generous timeout, so that a slow moment is not a fault.
        .timeout(java.time.Duration.ofSeconds(2));
  }
}
