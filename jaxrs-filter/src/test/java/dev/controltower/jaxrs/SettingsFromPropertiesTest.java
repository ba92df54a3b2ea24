package dev.controltower.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.http.HttpSettings;
import dev.controltower.http.RateLimitHeaders;
import org.glassfish.jersey.server.ResourceConfig;
import org.junit.jupiter.api.Test;

class SettingsFromPropertiesTest {

  @Test
  void settingsFrom_prefixedProperties_areParsed() {
    ResourceConfig config = new ResourceConfig()
        .property("controltower.requests-per-minute", "7")
        .property("controltower.max-llm-calls", 2)
        .property("controltower.user-header", "X-API-Key")
        .property("requests-per-hour", "1"); // unprefixed: not ours

    HttpSettings settings = QuotaInterceptor.settingsFrom(config);

    assertThat(settings.rateLimit().requestsPerMinute()).isEqualTo(7);
    assertThat(settings.rateLimit().requestsPerHour()).isEqualTo(1000);
    assertThat(settings.quota().maxLlmCalls()).isEqualTo(2);
    assertThat(settings.userHeader()).isEqualTo("X-API-Key");
  }

  @Test
  void settingsFrom_noConfiguration_defaults() {
    assertThat(QuotaInterceptor.settingsFrom(null)).isEqualTo(HttpSettings.defaults());
  }

  @Test
  void settingsFrom_badValue_throwsNamingPropertyAndValue() {
    ResourceConfig config = new ResourceConfig().property("controltower.burst-size", "-3");

    assertThatThrownBy(() -> QuotaInterceptor.settingsFrom(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("QuotaInterceptor: bad configuration property controltower.burst-size must be >= 0 but was -3");
  }

  @Test
  void settingsFrom_redisStoreWithoutItsModule_throwsNamingTheArtifact() {
    ResourceConfig config = new ResourceConfig().property("controltower.store", "redis")
        .property("controltower.redis-uri", "redis://127.0.0.1:6379");

    assertThatThrownBy(() -> QuotaInterceptor.settingsFrom(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("QuotaInterceptor: bad configuration property controltower.store must be one of"
            + " [memory] but was redis")
        .hasMessageContaining("the artifact dev.controltower:controltower-redis");
  }

  @Test
  void settingsFrom_redisUriWithoutStore_throwsNamingIt() {
    ResourceConfig config = new ResourceConfig().property("controltower.redis-uri", "redis://127.0.0.1:6379");

    assertThatThrownBy(() -> QuotaInterceptor.settingsFrom(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("redis-uri set, but store is memory");
  }

  @Test
  void settingsFrom_newSettings_areParsed() {
    ResourceConfig config = new ResourceConfig()
        .property("controltower.max-keys", "50000")
        .property("controltower.rate-limit-headers", "both")
        .property("controltower.process-id-header", "none")
        .property("controltower.trusted-proxies", "::/0")
        .property("controltower.trust-any-proxy", "true");

    HttpSettings settings = QuotaInterceptor.settingsFrom(config);

    assertThat(settings.maxKeys()).isEqualTo(50_000);
    assertThat(settings.newRateLimiter()).isNotNull();
    assertThat(settings.rateLimitHeaders()).isEqualTo(RateLimitHeaders.Mode.BOTH);
    assertThat(settings.processIdHeader()).isNull();
    assertThat(settings.trustAnyProxy()).isTrue();
  }

  @Test
  void settingsFrom_trustedProxiesCoveringEveryAddress_throwsSayingSo() {
    ResourceConfig config = new ResourceConfig().property("controltower.trusted-proxies", "0.0.0.0/0");

    assertThatThrownBy(() -> QuotaInterceptor.settingsFrom(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("controltower.trusted-proxies covers every address with 0.0.0.0/0")
        .hasMessageContaining("trust-any-proxy=true");
  }
}
