package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.ResourceQuota;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpSettingsTest {

  @Test
  void fromMap_empty_givesDefaults() {
    HttpSettings s = HttpSettings.fromMap(Map.of());

    assertThat(s).isEqualTo(HttpSettings.defaults());
    assertThat(s.rateLimit()).isEqualTo(RateLimitConfig.defaults());
    assertThat(s.quota()).isEqualTo(ResourceQuota.defaults());
    assertThat(s.identityOrder()).containsExactly(IdentitySource.PRINCIPAL, IdentitySource.USER_HEADER, IdentitySource.IP);
    assertThat(s.forwardedHeader()).isEqualTo("X-Forwarded-For");
    assertThat(s.ipv6PrefixLength()).isEqualTo(56);
  }

  @Test
  void fromMap_everyParameter_isParsed() {
    HttpSettings s = HttpSettings.fromMap(Map.ofEntries(
        Map.entry("requests-per-minute", "5"), Map.entry("requests-per-hour", " 50 "),
        Map.entry("requests-per-day", "0"), Map.entry("burst-size", "2"),
        Map.entry("max-llm-calls", "3"), Map.entry("max-tool-calls", "4"), Map.entry("max-agent-hops", "5"),
        Map.entry("max-iterations", "6"), Map.entry("max-input-tokens", "7"), Map.entry("max-output-tokens", "8"),
        Map.entry("max-context-tokens", "9"), Map.entry("timeout-seconds", "10"),
        Map.entry("soft-timeout-seconds", "11"), Map.entry("identity-order", "ip, principal"),
        Map.entry("user-header", "X-API-Key"), Map.entry("trusted-proxies", "10.0.0.0/8, ::1\n192.168.1.1"),
        Map.entry("forwarded-header", "Forwarded"), Map.entry("max-forwarded-hops", "3"),
        Map.entry("ipv6-prefix-length", "64"), Map.entry("endpoint-patterns", "/api/users/*,\n GET /api/x"),
        Map.entry("exclude-paths", "/health"), Map.entry("case-insensitive-paths", "TRUE"),
        Map.entry("legacy-headers", "true"), Map.entry("trust-request-id", "false")));

    assertThat(s.rateLimit()).isEqualTo(new RateLimitConfig(5, 50, 0, 2));
    assertThat(s.quota()).isEqualTo(new ResourceQuota(7, 8, 9, 3, 4, 5, 6, 10, 11, null));
    assertThat(s.identityOrder()).containsExactly(IdentitySource.IP, IdentitySource.PRINCIPAL);
    assertThat(s.userHeader()).isEqualTo("X-API-Key");
    assertThat(s.trustedProxies()).extracting(Cidr::toString)
        .containsExactly("10.0.0.0/8", "0:0:0:0:0:0:0:1/128", "192.168.1.1/32");
    assertThat(s.forwardedHeader()).isEqualTo("Forwarded");
    assertThat(s.maxForwardedHops()).isEqualTo(3);
    assertThat(s.ipv6PrefixLength()).isEqualTo(64);
    assertThat(s.endpointPatterns()).containsExactly("/api/users/*", "GET /api/x");
    assertThat(s.excludePaths()).containsExactly("/health");
    assertThat(s.caseInsensitivePaths()).isTrue();
    assertThat(s.rateLimitHeaders()).isEqualTo(RateLimitHeaders.Mode.BOTH);
    assertThat(s.trustRequestId()).isFalse();
  }

  @Test
  void fromMap_trustedProxiesCoveringEveryAddress_failsSayingSo() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("trusted-proxies", "10.0.0.0/8, 0.0.0.0/0")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("trusted-proxies covers every address with 0.0.0.0/0 in '10.0.0.0/8, 0.0.0.0/0'")
        .hasMessageContaining("every client could then choose its own key")
        .hasMessageContaining("trust-any-proxy=true");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("trusted-proxies", "::/0")))
        .hasMessageStartingWith("trusted-proxies covers every address with 0:0:0:0:0:0:0:0/0");
  }

  @Test
  void fromMap_trustedProxiesCoveringEveryAddressWithTrustAnyProxy_isAccepted() {
    HttpSettings s = HttpSettings.fromMap(Map.of("trusted-proxies", "0.0.0.0/0, ::/0", "trust-any-proxy", "true"));

    assertThat(s.trustAnyProxy()).isTrue();
    assertThat(HttpSettings.coversEveryAddress(s.trustedProxies())).isTrue();
    assertThat(HttpSettings.fromMap(Map.of("trusted-proxies", "0.0.0.0/1")).trustedProxies()).hasSize(1);
  }

  @Test
  void fromMap_headerModes_areParsed() {
    assertThat(HttpSettings.defaults().rateLimitHeaders()).isEqualTo(RateLimitHeaders.Mode.DRAFT);
    assertThat(HttpSettings.defaults().processIdHeader()).isEqualTo("X-Process-Id");
    for (RateLimitHeaders.Mode m : RateLimitHeaders.Mode.values()) {
      assertThat(HttpSettings.fromMap(Map.of("rate-limit-headers", " " + m.parameterValue().toUpperCase() + " "))
          .rateLimitHeaders()).isEqualTo(m);
    }
    assertThat(HttpSettings.fromMap(Map.of("process-id-header", "none")).processIdHeader()).isNull();
    assertThat(HttpSettings.fromMap(Map.of("process-id-header", "X-Run-Id")).processIdHeader()).isEqualTo("X-Run-Id");
  }

  @Test
  void fromMap_badHeaderModes_nameParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("rate-limit-headers", "all")))
        .hasMessage("rate-limit-headers must be one of draft, legacy, both, none but was 'all'");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("process-id-header", "X Pid")))
        .hasMessage("process-id-header must be a header name but was 'X Pid'");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("process-id-header", " ")))
        .hasMessage("process-id-header must be a header name or none but was ' '");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("rate-limit-headers", "none", "legacy-headers", "true")))
        .hasMessageStartingWith("legacy-headers and rate-limit-headers must not both be set");
  }

  @Test
  void fromMap_maxKeys_isParsedAndEstimated() {
    HttpSettings s = HttpSettings.fromMap(Map.of("max-keys", "200_000"));

    assertThat(s.maxKeys()).isEqualTo(200_000);
    assertThat(s.memoryBound()).isEqualTo("max-keys 200000 (about 49 MB of heap at 257 bytes per pair)");
    assertThat(HttpSettings.defaults().maxKeys()).isEqualTo(1_000_000);
    assertThat(HttpSettings.defaults().memoryBound()).isEqualTo("max-keys 1000000 (about 245 MB of heap at 257 bytes per pair)");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("max-keys", "0")))
        .hasMessage("max-keys must be a whole number >= 1 (pairs the limiter holds) but was '0'");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("max-keys", "lots")))
        .hasMessage("max-keys must be a whole number >= 1 (pairs the limiter holds) but was 'lots'");
  }

  @Test
  void fromMap_notANumber_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("requests-per-minute", "abc")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requests-per-minute must be a whole number >= 0 but was 'abc'");
  }

  @Test
  void fromMap_negative_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("max-llm-calls", "-1")))
        .hasMessage("max-llm-calls must be >= 0 but was -1");
  }

  @Test
  void fromMap_tooLarge_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("requests-per-day", "99999999999")))
        .hasMessageContaining("requests-per-day").hasMessageContaining("99999999999");
  }

  @Test
  void fromMap_blankNumber_isAnError() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("burst-size", " ")))
        .hasMessage("burst-size must be a whole number >= 0 but was ' '");
  }

  @Test
  void fromMap_malformedCidr_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("trusted-proxies", "10.0.0.0/8, 10.0.0.300/33")))
        .hasMessageContaining("trusted-proxies").hasMessageContaining("'10.0.0.300/33'");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("trusted-proxies", "10.0.0.0/33")))
        .hasMessageContaining("trusted-proxies").hasMessageContaining("10.0.0.0/33");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("trusted-proxies", "proxy.internal")))
        .hasMessageContaining("trusted-proxies").hasMessageContaining("proxy.internal");
  }

  @Test
  void fromMap_unknownParameter_isNamed() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("request-per-minute", "5")))
        .hasMessageStartingWith("unknown parameter(s) [request-per-minute]");
  }

  @Test
  void fromMap_badBoolean_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("legacy-headers", "yes")))
        .hasMessage("legacy-headers must be true or false but was 'yes'");
  }

  @Test
  void fromMap_badPattern_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("endpoint-patterns", "api/x")))
        .hasMessageContaining("endpoint-patterns").hasMessageContaining("api/x");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("exclude-paths", "/a*b")))
        .hasMessageContaining("exclude-paths").hasMessageContaining("/a*b");
  }

  @Test
  void fromMap_badIdentityOrder_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("identity-order", "ip,ip")))
        .hasMessageContaining("identity-order").hasMessageContaining("'ip,ip'");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("identity-order", "cookie")))
        .hasMessageContaining("identity-order").hasMessageContaining("'cookie'");
  }

  @Test
  void fromMap_badHeaderName_namesParameterAndValue() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("user-header", "X API Key")))
        .hasMessage("user-header must be a header name but was 'X API Key'");
  }

  @Test
  void fromMap_controlCharactersInValue_areNeutralizedInMessage() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("requests-per-minute", "1\r\nX: y")))
        .hasMessageNotContaining("\r").hasMessageNotContaining("\n").hasMessageContaining("\\u000d");
  }

  @Test
  void ipv6PrefixLength_outOfRange_isAnError() {
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("ipv6-prefix-length", "129")))
        .hasMessage("ipv6-prefix-length must be in [1, 128] but was 129");
  }
}
