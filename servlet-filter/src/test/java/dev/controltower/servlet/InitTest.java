package dev.controltower.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.http.HttpAttributes;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InitTest {

  /** A filter configuration from a map, the shape a container hands over (also FloodMain's). */
  static FilterConfig config(Map<String, String> params) {
    return new FilterConfig() {
      @Override
      public String getFilterName() {
        return "rate-limit";
      }

      @Override
      public ServletContext getServletContext() {
        return null;
      }

      @Override
      public String getInitParameter(String name) {
        return params.get(name);
      }

      @Override
      public Enumeration<String> getInitParameterNames() {
        return Collections.enumeration(params.keySet());
      }
    };
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "requests-per-minute | abc        | requests-per-minute must be a whole number >= 0 but was 'abc'",
      "requests-per-hour   | -1         | requests-per-hour must be >= 0 but was -1",
      "burst-size          | 1.5        | burst-size must be a whole number >= 0 but was '1.5'",
      "max-llm-calls       | -3         | max-llm-calls must be >= 0 but was -3",
      "timeout-seconds     | ten        | timeout-seconds must be a whole number >= 0 but was 'ten'",
      "trusted-proxies     | 10.0.0.0/33 | trusted-proxies must be a comma list of CIDR blocks or IP addresses but had '10.0.0.0/33'",
      "trusted-proxies     | 10.0.0/8   | trusted-proxies must be a comma list of CIDR blocks or IP addresses but had '10.0.0/8'",
      "endpoint-patterns   | api/x      | endpoint-patterns must hold path patterns but had 'api/x'",
      "legacy-headers      | maybe      | legacy-headers must be true or false but was 'maybe'",
      "trusted-proxies     | 0.0.0.0/0  | trusted-proxies covers every address with 0.0.0.0/0 in '0.0.0.0/0': every client could then choose its own key",
      "trusted-proxies     | ::/0       | trusted-proxies covers every address with 0:0:0:0:0:0:0:0/0 in '::/0'",
      "max-keys            | 0          | max-keys must be a whole number >= 1 (pairs the limiter holds) but was '0'",
      "rate-limit-headers  | yes        | rate-limit-headers must be one of draft, legacy, both, none but was 'yes'",
      "process-id-header   | X:Pid      | process-id-header must be a header name but was 'X:Pid'",
      "store               | redis      | store=redis needs the artifact dev.controltower:controltower-redis on the class path",
      "store               | Redis!     | store must be memory or a store's name such as redis but was 'Redis!'",
      "redis-uri           | redis://h  | redis-uri set, but store is memory (the default)",
      "fail-mode           | open       | fail-mode set, but store is memory (the default)"})
  void init_badParameter_failsNamingParameterAndValue(String name, String value, String message) {
    RateLimitFilter filter = new RateLimitFilter();

    assertThatThrownBy(() -> filter.init(config(Map.of(name, value))))
        .isInstanceOf(ServletException.class)
        .hasMessageContaining(message);
  }

  @Test
  void init_unknownParameter_fails() {
    assertThatThrownBy(() -> new RateLimitFilter().init(config(Map.of("requests-per-minuet", "5"))))
        .isInstanceOf(ServletException.class)
        .hasMessageContaining("unknown parameter(s) [requests-per-minuet]");
  }

  @Test
  void init_badParameterInRealContainer_failsStartup() throws Exception {
    assertThatThrownBy(() -> EmbeddedJetty.start(new RateLimitFilter(), Map.of("trusted-proxies", "10.0.0.0/33")))
        .satisfies(e -> {
          Throwable t = e;
          StringBuilder messages = new StringBuilder();
          for (int i = 0; t != null && i < 10; i++, t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
          }
          assertThat(messages.toString()).contains("trusted-proxies").contains("10.0.0.0/33");
        });
  }

  @Test
  void doFilter_beforeInit_fails() {
    assertThatThrownBy(() -> new RateLimitFilter().doFilter(null, null, null))
        .isInstanceOf(ServletException.class).hasMessageContaining("before init()");
  }

  @Test
  void init_noSharedInstances_buildsAndPublishesThem() throws Exception {
    RateLimitFilter filter = new RateLimitFilter();
    EmbeddedJetty jetty = EmbeddedJetty.start(filter, Map.of("requests-per-minute", "7", "max-llm-calls", "4"));
    try {
      ServletContext context = jetty.context().getServletContext();
      Object limiter = context.getAttribute(HttpAttributes.RATE_LIMITER);
      Object tracker = context.getAttribute(HttpAttributes.RESOURCE_TRACKER);

      assertThat(limiter).isInstanceOf(RateLimiter.class).isSameAs(filter.gate().rateLimiter());
      assertThat(tracker).isInstanceOf(ResourceTracker.class).isSameAs(filter.gate().resourceTracker());
      assertThat(((RateLimiter) limiter).getConfig("anyone").requestsPerMinute()).isEqualTo(7);
      assertThat(RawHttp.get(jetty.port(), "/x").header("RateLimit-Policy")).startsWith("\"minute\";q=7;w=60");
    } finally {
      jetty.close();
    }
  }

  @Test
  void init_trustAnyProxyWithEveryAddress_starts() throws Exception {
    RateLimitFilter filter = new RateLimitFilter();

    filter.init(config(Map.of("trusted-proxies", "0.0.0.0/0", "trust-any-proxy", "true")));

    assertThat(filter.gate().settings().trustAnyProxy()).isTrue();
  }

  @Test
  void init_maxKeys_boundsTheLimiterItBuilds() throws Exception {
    RateLimitFilter filter = new RateLimitFilter();

    filter.init(config(Map.of("max-keys", "100", "requests-per-minute", "1000")));
    for (int i = 0; i < 1000; i++) {
      filter.gate().rateLimiter().checkRateLimit("ip:10.0.0." + i, "default");
    }
    filter.gate().rateLimiter().cleanUp();

    assertThat(filter.gate().settings().maxKeys()).isEqualTo(100);
    assertThat(filter.gate().rateLimiter().trackedKeys()).isLessThanOrEqualTo(100);
  }
}
