package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.spi.WindowStore;
import dev.controltower.spi.WindowStoreProvider;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** store=redis found through ServiceLoader; clear errors for bad settings. */
class RedisWindowStoreProviderTest {
  private static final ClassLoader LOADER = RedisWindowStoreProviderTest.class.getClassLoader();

  @Test
  void find_redis_isThisModulesProviderAndBuildsAConnectedStore() {
    WindowStoreProvider provider = WindowStoreProvider.find("redis", LOADER);
    assertThat(provider).isInstanceOf(RedisWindowStoreProvider.class);
    try (WindowStore store = provider.create(Map.of("redis-uri", RedisServer.shared().uri(), "store-timeout", "2s",
        "fail-mode", "closed", "requests-per-minute", "10"), 10)) {
      assertThat(store).isInstanceOf(RedisWindowStore.class);
      assertThat(((RedisWindowStore) store).failMode()).isEqualTo(FailMode.CLOSED);
      assertThat(store.size()).isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  void create_withListener_reportsEachScriptCallsLatency() {
    java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    dev.controltower.spi.ControlTowerListener listener = new dev.controltower.spi.ControlTowerListener() {
      @Override
      public void onStoreLatency(String operation, long durationNanos) {
        seen.add(operation);
      }
    };
    dev.controltower.spi.WindowPlan plan = dev.controltower.spi.WindowPlan.of(
        dev.controltower.resources.RateLimitConfig.builder().requestsPerMinute(10).build(), 10);
    try (WindowStore store = WindowStoreProvider.find("redis", LOADER).create(Map.of("redis-uri",
        RedisServer.shared().uri(), "store-timeout", "2s"), 10, listener)) {
      store.acquire("provider-listener-" + System.nanoTime(), "/e", plan, 1, 0);
      store.acquire("provider-listener-" + System.nanoTime(), "/e", plan, 1, 0);
    }

    assertThat(seen).containsExactly("eval", "eval");
  }

  @Test
  void create_badUriWithPassword_refusesWithThePasswordMasked() {
    WindowStoreProvider provider = WindowStoreProvider.find("redis", LOADER);
    for (String uri : new String[] {"http://admin:s3cret-pw@x:1", "redis://s3cret-pw@", "redis://:s3cret-pw@/0",
        "rediss://user:s3c/ret-pw@"}) {
      assertThatThrownBy(() -> provider.check(Map.of("redis-uri", uri)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("****@")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret").doesNotContain("ret-pw"))
          .hasNoCause();
    }
    assertThat(RedisWindowStore.masked("redis://127.0.0.1:6379")).isEqualTo("redis://127.0.0.1:6379");
    assertThat(RedisWindowStore.masked("redis://pw@h:1/2")).isEqualTo("redis://****@h:1/2");
  }

  @Test
  void find_unknownStore_namesTheValueAndTheStoresFound() {
    assertThatThrownBy(() -> WindowStoreProvider.find("memcached", LOADER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("store must be one of [memory, redis] but was memcached (is its module on the class path?)");
  }

  @Test
  void create_badSettings_failNamingTheSettingAndValue() {
    WindowStoreProvider provider = new RedisWindowStoreProvider();
    assertThatThrownBy(() -> provider.create(Map.of(), 10)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("redis-uri is required with store=redis, e.g. redis://127.0.0.1:6379");
    assertThatThrownBy(() -> provider.create(Map.of("redis-uri", "http://x:1"), 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("redis-uri must be a URI like redis://host:6379 but was http://x:1");
    assertThatThrownBy(() -> provider.create(Map.of("redis-uri", "redis://h", "fail-mode", "maybe"), 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("fail-mode must be one of local, open, closed but was maybe");
    assertThatThrownBy(() -> RedisWindowStoreProvider.parseTimeout("fast"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("store-timeout must be a positive number of ms (50, 50ms or 2s) but was fast");
    assertThat(RedisWindowStoreProvider.parseTimeout("50")).isEqualTo(Duration.ofMillis(50));
    assertThat(RedisWindowStoreProvider.parseTimeout("75ms")).isEqualTo(Duration.ofMillis(75));
    assertThat(RedisWindowStoreProvider.parseTimeout("2s")).isEqualTo(Duration.ofSeconds(2));
  }
}
