package dev.controltower.servlet;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code rate-limit-headers} and {@code process-id-header} on the wire (http.md "What the client sees"). */
class HeaderModesTest {
  private static final String POLICY = "\"minute\";q=1;w=60;pk=:GYG3jO8FETh0:"; // pk of "/api/x"
  private static final List<String> RATE_FIELDS = List.of("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit",
      "X-RateLimit-Remaining", "X-RateLimit-Reset");

  private final RateLimiter limiter = RateLimiter.builder().clock(FakeClock.atMillis(100_000))
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(1).requestsPerHour(0).requestsPerDay(0).build())
      .build();
  private final ResourceTracker tracker = ResourceTracker.create();
  private EmbeddedJetty jetty;

  private int start(Map<String, String> params) throws Exception {
    Map<String, String> all = new HashMap<>(Map.of("endpoint-patterns", "/api/x, /api/y"));
    all.putAll(params);
    jetty = EmbeddedJetty.start(new RateLimitFilter(limiter, tracker), all);
    return jetty.port();
  }

  @AfterEach
  void stop() throws Exception {
    jetty.close();
  }

  private static List<String> rateFields(RawHttp.Response r) {
    return RATE_FIELDS.stream().filter(name -> r.header(name) != null).toList();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "draft  | RateLimit-Policy RateLimit",
      "legacy | X-RateLimit-Limit X-RateLimit-Remaining X-RateLimit-Reset",
      "both   | RateLimit-Policy RateLimit X-RateLimit-Limit X-RateLimit-Remaining X-RateLimit-Reset",
      "none   | ''"})
  void rateLimitHeaders_eachMode_sendsItsFieldsAnd429KeepsRetryAfterAndBody(String mode, String fields)
      throws Exception {
    int port = start(Map.of("rate-limit-headers", mode));
    List<String> expected = fields.isEmpty() ? List.of() : List.of(fields.split(" "));

    RawHttp.Response admitted = RawHttp.get(port, "/api/x");
    RawHttp.Response limited = RawHttp.get(port, "/api/x");

    assertThat(rateFields(admitted)).containsExactlyElementsOf(expected);
    assertThat(rateFields(limited)).containsExactlyElementsOf(expected);
    assertThat(admitted.header("X-Process-Id")).isNotBlank();
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.header("Retry-After")).isEqualTo("60");
    assertThat(limited.header("Cache-Control")).isEqualTo("no-store");
    assertThat(limited.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(limited.body()).startsWith("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\"")
        .contains("\"retry_after\":60");
    if (expected.contains("RateLimit")) {
      assertThat(admitted.header("RateLimit-Policy")).isEqualTo(POLICY);
      assertThat(admitted.header("RateLimit")).isEqualTo("\"minute\";r=0;t=60;pk=:GYG3jO8FETh0:");
      assertThat(limited.header("RateLimit")).isEqualTo("\"minute\";r=0;t=60;pk=:GYG3jO8FETh0:");
    }
  }

  @Test
  void partitionKey_differsBetweenEndpointsAndNeverDependsOnTheUser() throws Exception {
    int port = start(Map.of("user-header", "X-API-Key"));

    RawHttp.Response x = RawHttp.get(port, "/api/x", "X-API-Key: a");
    RawHttp.Response xOther = RawHttp.get(port, "/api/x", "X-API-Key: b");
    RawHttp.Response y = RawHttp.get(port, "/api/y", "X-API-Key: a");

    assertThat(x.header("RateLimit-Policy")).isEqualTo(xOther.header("RateLimit-Policy")).isEqualTo(POLICY);
    assertThat(y.header("RateLimit-Policy")).startsWith("\"minute\";q=1;w=60;pk=:").isNotEqualTo(POLICY);
  }

  @Test
  void processIdHeader_renamedOrNone() throws Exception {
    int port = start(Map.of("process-id-header", "X-Run-Id"));
    RawHttp.Response renamed = RawHttp.get(port, "/api/x");
    jetty.close();
    port = start(Map.of("process-id-header", "none", "rate-limit-headers", "none"));
    RawHttp.Response none = RawHttp.get(port, "/api/y");

    assertThat(renamed.header("X-Run-Id")).isNotBlank();
    assertThat(renamed.header("X-Process-Id")).isNull();
    assertThat(none.status()).isEqualTo(200);
    assertThat(none.header("X-Process-Id")).isNull();
    assertThat(rateFields(none)).isEmpty();
    assertThat(none.body()).contains("endpoint=/api/y"); // still counted and tracked
  }
}
