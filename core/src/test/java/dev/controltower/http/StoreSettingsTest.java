package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** core has no store provider on its test class path: every store but memory is "not found" here. */
class StoreSettingsTest {

  @Test
  void fromMap_noStoreSettings_countsInMemory() {
    HttpSettings s = HttpSettings.fromMap(Map.of());

    assertThat(s.store()).isEqualTo(StoreSettings.memory());
    assertThat(s.store().isMemory()).isTrue();
    assertThat(s.store().newStore(null, 10)).isNull();
    assertThat(HttpSettings.PARAMETERS).containsSubsequence("store", "redis-uri", "store-timeout", "fail-mode");
  }

  @Test
  void fromMap_storeSettings_areKeptForTheProvider() {
    HttpSettings s = HttpSettings.fromMap(Map.of("store", " redis ", "redis-uri", "redis://:s3cret@db:6379/1",
        "store-timeout", "20ms", "fail-mode", "closed"));

    assertThat(s.store().name()).isEqualTo("redis");
    assertThat(s.store().options()).containsOnly(Map.entry("redis-uri", "redis://:s3cret@db:6379/1"),
        Map.entry("store-timeout", "20ms"), Map.entry("fail-mode", "closed"));
    assertThat(s.store()).hasToString("redis (redis-uri=redis://:***@db:6379/1, store-timeout=20ms, fail-mode=closed)");
  }

  @Test
  void newRateLimiter_redisWithoutItsModule_failsNamingTheArtifact() {
    HttpSettings s = HttpSettings.fromMap(Map.of("store", "redis", "redis-uri", "redis://127.0.0.1:6379"));

    assertThatThrownBy(s::newRateLimiter)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("store must be one of [memory] but was redis")
        .hasMessageContaining("store=redis needs the artifact dev.controltower:controltower-redis on the class path");
    assertThatThrownBy(() -> s.store().check(null))
        .hasMessageContaining("dev.controltower:controltower-redis");
  }

  @Test
  void newRateLimiter_unknownStore_failsNamingValueAndKnownStores() {
    HttpSettings s = HttpSettings.fromMap(Map.of("store", "redsi"));

    assertThatThrownBy(s::newRateLimiter)
        .hasMessageStartingWith("store must be one of [memory] but was redsi")
        .hasMessageContaining("the artifact of a store module that provides it");
  }

  @Test
  void fromMap_badStoreName_failsNamingParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("store", "Redis Cluster")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("store must be memory or a store's name such as redis but was 'Redis Cluster'");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("store", " ")))
        .hasMessage("store must be memory or a store's name such as redis but was ' '");
  }

  @Test
  void fromMap_sharedStoreSettingsWithMemory_failsNamingThem() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("redis-uri", "redis://db:6379", "fail-mode", "open")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fail-mode, redis-uri set, but store is memory (the default), which counts in this process and"
            + " reads none of them; set store=redis to share the limits, or remove them");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("store", "memory", "store-timeout", "50")))
        .hasMessageStartingWith("store-timeout set, but store is memory");
  }

  @Test
  void toString_uriWithUserAndPassword_masksThePassword() {
    assertThat(StoreSettings.withoutPassword("redis://app:pw@h:1")).isEqualTo("redis://app:***@h:1");
    assertThat(StoreSettings.withoutPassword("redis://pw@h:1")).isEqualTo("redis://***@h:1");
    assertThat(StoreSettings.withoutPassword("redis://h:1")).isEqualTo("redis://h:1");
  }
}
