package dev.controltower.servlet;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.UriCompliance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Which endpoint a request counts against, over raw sockets (so that {@code //api/x} and
 * {@code /api/./x} reach the server as sent), on Jetty with its default URI compliance and with the
 * permissive LEGACY one, where the container hands the oddities through to the filter.
 */
class EndpointTest {
  private static final List<String> VARIANTS = List.of("/api/x", "/api/x/", "//api/x", "/api//x", "/api/./x",
      "/api/y/../x", "/api/x;jsessionid=0123ABC", "/api/%78", "/%61pi/x", "/api/x?q=1");

  private final RateLimiter limiter = RateLimiter.builder().clock(FakeClock.atMillis(100_000))
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(1000).build()).build();
  private final ResourceTracker tracker = ResourceTracker.create();
  private EmbeddedJetty jetty;

  enum Compliance {
    DEFAULT(null), LEGACY(UriCompliance.LEGACY);

    final UriCompliance value;

    Compliance(UriCompliance value) {
      this.value = value;
    }
  }

  private int start(Compliance compliance, Map<String, String> params) throws Exception {
    jetty = EmbeddedJetty.start(new RateLimitFilter(limiter, tracker), params, compliance.value);
    return jetty.port();
  }

  @AfterEach
  void stop() throws Exception {
    jetty.close();
  }

  private long counted(String endpoint) {
    return limiter.getUsage("ip:127.0.0.1", endpoint).get(LimitType.MINUTE).current();
  }

  @ParameterizedTest
  @EnumSource(Compliance.class)
  void pathVariants_allCountAgainstTheCanonicalBucket(Compliance compliance) throws Exception {
    int port = start(compliance, Map.of("endpoint-patterns", "/api/x, /api/*"));

    List<String> served = new ArrayList<>();
    for (String target : VARIANTS) {
      RawHttp.Response r = RawHttp.get(port, target);
      if (r.status() == 200) {
        assertThat(r.body()).as(target).endsWith("endpoint=/api/x");
        served.add(target);
      } else {
        // the container refused the request itself (400): served nowhere, so counted nowhere
        assertThat(r.status()).as(target).isEqualTo(400);
      }
    }

    assertThat(counted("/api/x")).isEqualTo(served.size());
    assertThat(counted("/api/*")).isZero();
    assertThat(limiter.trackedKeys()).isEqualTo(1);
    if (compliance == Compliance.LEGACY) {
      assertThat(served).containsExactlyElementsOf(VARIANTS);
    } else {
      assertThat(served).contains("/api/x", "/api/x/", "/api/y/../x", "/api/x;jsessionid=0123ABC", "/api/%78");
    }
  }

  @ParameterizedTest
  @EnumSource(Compliance.class)
  void unmatchedPaths_shareOneDefaultBucket(Compliance compliance) throws Exception {
    int port = start(compliance, Map.of("endpoint-patterns", "/api/x"));

    for (int i = 0; i < 50; i++) {
      assertThat(RawHttp.get(port, "/random/" + i + "/" + Long.toHexString(i * 7919L)).body()).endsWith("endpoint=default");
    }

    assertThat(counted("default")).isEqualTo(50);
    assertThat(limiter.trackedKeys()).isEqualTo(1);
  }

  @Test
  void fieldsSetByAFilterInFront_areReplacedNotRepeated() throws Exception {
    int port = start(Compliance.DEFAULT, Map.of());

    RawHttp.Response r = RawHttp.get(port, "/api/x", "X-Test-Stale-Fields: yes");

    assertThat(r.status()).isEqualTo(200);
    for (String name : java.util.List.of("ratelimit", "ratelimit-policy", "x-process-id")) {
      assertThat(r.headers().get(name)).as(name).hasSize(1).doesNotContain("stale");
    }
  }

  @Test
  void noPatterns_everyPathIsDefault() throws Exception {
    int port = start(Compliance.DEFAULT, Map.of());

    RawHttp.get(port, "/api/x");
    RawHttp.get(port, "/api/y");

    assertThat(counted("default")).isEqualTo(2);
    assertThat(limiter.trackedKeys()).isEqualTo(1);
  }

  @Test
  void excludedPath_dotDotEscape_isCounted() throws Exception {
    int port = start(Compliance.LEGACY, Map.of("exclude-paths", "/health/*", "endpoint-patterns", "/api/x"));

    RawHttp.Response excluded = RawHttp.get(port, "/health/live");
    RawHttp.Response escaped = RawHttp.get(port, "/health/../api/x");
    RawHttp.Response encoded = RawHttp.get(port, "/health/%2e%2e/api/x");

    assertThat(excluded.body()).isEqualTo("REQUEST untracked");
    assertThat(escaped.body()).endsWith("endpoint=/api/x");
    // A container may refuse the encoded dot-segment (400); either way it must not reach the app as excluded.
    assertThat(encoded.status()).isIn(200, 400);
    assertThat(encoded.body()).doesNotContain("untracked");
    if (encoded.status() == 200) {
      assertThat(encoded.body()).endsWith("endpoint=/api/x");
    }
  }

  @Test
  void endpointLimits_areKeyedByPatternNames() throws Exception {
    limiter.setEndpointLimits("/api/users/*", RateLimitConfig.builder().requestsPerMinute(1).build());
    int port = start(Compliance.DEFAULT, Map.of("endpoint-patterns", "/api/users/*"));

    assertThat(RawHttp.get(port, "/api/users/1").status()).isEqualTo(200);
    RawHttp.Response second = RawHttp.get(port, "/api/users/2/");

    assertThat(second.status()).isEqualTo(429);
    assertThat(second.header("RateLimit-Policy")).startsWith("\"minute\";q=1;w=60");
  }
}
