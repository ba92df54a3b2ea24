package dev.controltower.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.http.HttpAttributes;
import dev.controltower.http.HttpSettings;
import dev.controltower.jaxrs.QuotaInterceptor;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.RateLimitFilter;
import dev.controltower.spi.kit.FakeClock;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.glassfish.jersey.server.ResourceConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Exact meter values after a scripted sequence of requests through each adapter, on real servers,
 * with the limiter and tracker on one fake clock (the handlers move it to give processes a duration).
 */
class AdapterMetricsTest {
  private static final RateLimitConfig THREE_PER_MINUTE =
      RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(100).requestsPerDay(1000).build();
  /** The binding window is the hour here: 2 per hour leaves less room than 100 per minute. */
  private static final RateLimitConfig TWO_PER_HOUR =
      RateLimitConfig.builder().requestsPerMinute(100).requestsPerHour(2).requestsPerDay(1000).build();

  private final FakeClock clock = FakeClock.atMillis(1_000_000);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ControlTowerMetrics metrics = new ControlTowerMetrics();
  private RateLimiter limiter;
  private ResourceTracker tracker;

  @BeforeEach
  void setUp() {
    Harness.clock = clock;
    metrics.bindTo(registry);
    limiter = RateLimiter.builder().clock(clock).defaultConfig(THREE_PER_MINUTE).listener(metrics).build();
    tracker = ResourceTracker.builder().clock(clock).defaultQuota(ResourceQuota.builder().maxLlmCalls(10).build()).build();
  }

  private double violations(String reason) {
    return registry.get(ControlTowerMetrics.QUOTA_VIOLATIONS).tag("reason", reason).counter().count();
  }

  private Timer duration(String endpoint) {
    return registry.get(ControlTowerMetrics.PROCESS_DURATION).tag("endpoint", endpoint).timer();
  }

  private double active() {
    return registry.get(ControlTowerMetrics.PROCESSES_ACTIVE).gauge().value();
  }

  /** Every request series as "outcome window endpoint = count", to show that no other one exists. */
  private Map<String, Double> requestSeries() {
    Map<String, Double> out = new TreeMap<>();
    for (Meter m : registry.find(ControlTowerMetrics.REQUESTS).meters()) {
      out.put(m.getId().getTag("outcome") + " " + m.getId().getTag("window") + " " + m.getId().getTag("endpoint"),
          ((FunctionCounter) m).count());
    }
    return out;
  }

  @Test
  void servletFilter_scriptedSequence_countsEachDecisionExactly() throws Exception {
    limiter.setEndpointLimits("/api/run", TWO_PER_HOUR);
    List<Integer> statuses = new ArrayList<>();
    try (Harness h = Harness.servlet(new RateLimitFilter(limiter, tracker),
        Map.of("endpoint-patterns", "/api/hello, /api/run", "exclude-paths", "/health"), c -> {})) {
      for (int i = 0; i < 5; i++) {
        statuses.add(h.get("/api/hello"));
      }
      statuses.add(h.get("/api/run?llm=2&ms=250"));
      statuses.add(h.get("/api/run?llm=11&ms=1000"));
      statuses.add(h.get("/api/run"));
      statuses.add(h.get("/some/raw/path/1"));
      statuses.add(h.get("/some/raw/path/2"));
      statuses.add(h.get("/health"));
      Harness.awaitZero(() -> (long) active());
    }

    assertThat(statuses).containsExactly(200, 200, 200, 429, 429, 200, 429, 429, 200, 200, 200);
    assertThat(requestSeries()).containsExactly(
        Map.entry("admitted hour /api/run", 2.0),
        Map.entry("admitted minute /api/hello", 3.0),
        Map.entry("admitted minute default", 2.0),
        Map.entry("rejected hour /api/run", 1.0),
        Map.entry("rejected minute /api/hello", 2.0));
    assertThat(violations("max_llm_calls_exceeded")).isEqualTo(1.0);
    assertThat(violations("max_tool_calls_exceeded")).isZero();
    assertThat(active()).isZero();
    assertThat(duration("/api/run").count()).isEqualTo(2);
    assertThat(duration("/api/run").totalTime(TimeUnit.MILLISECONDS)).isEqualTo(1250.0);
    assertThat(duration("/api/hello").count()).isEqualTo(3);
    assertThat(duration("/api/hello").totalTime(TimeUnit.MILLISECONDS)).isZero();
    assertThat(duration("default").count()).isEqualTo(2);
  }

  @Test
  void servletFilter_webXmlOnlyWithListenerAttribute_countsInTheAttributesListener() throws Exception {
    Harness.clock = FakeClock.atMillis(0);
    try (Harness h = Harness.servlet(new RateLimitFilter(),
        Map.of("requests-per-minute", "2", "endpoint-patterns", "/api/*"),
        c -> c.setAttribute(HttpAttributes.LISTENER, metrics))) {
      for (int i = 0; i < 3; i++) {
        h.get("/api/x");
      }
      Harness.awaitZero(() -> (long) active());
    }

    assertThat(requestSeries()).containsExactly(
        Map.entry("admitted minute /api/*", 2.0), Map.entry("rejected minute /api/*", 1.0));
    assertThat(duration("/api/*").count()).isEqualTo(2);
  }

  @Test
  void jaxRsInterceptor_scriptedSequence_countsEachDecisionExactly() throws Exception {
    limiter.setEndpointLimits("GET /run", TWO_PER_HOUR);
    ResourceConfig app = new ResourceConfig()
        .register(new QuotaInterceptor(limiter, tracker, HttpSettings.fromMap(Map.of("max-llm-calls", "10"))))
        .register(Harness.Resources.class);
    List<Integer> statuses = new ArrayList<>();
    try (Harness h = Harness.jersey(app)) {
      for (int i = 0; i < 4; i++) {
        statuses.add(h.get("/users/" + i));         // one template, four raw paths
      }
      statuses.add(h.get("/run?llm=1&ms=40"));
      statuses.add(h.get("/run?llm=11&ms=60"));
      statuses.add(h.get("/run"));
      statuses.add(h.get("/no/such/resource"));     // 404, counted late against default
      Harness.awaitZero(() -> (long) active());
    }

    assertThat(statuses).containsExactly(200, 200, 200, 429, 200, 429, 429, 404);
    assertThat(requestSeries()).containsExactly(
        Map.entry("admitted hour GET /run", 2.0),
        Map.entry("admitted minute GET /users/{id}", 3.0),
        Map.entry("admitted minute default", 1.0),
        Map.entry("rejected hour GET /run", 1.0),
        Map.entry("rejected minute GET /users/{id}", 1.0));
    assertThat(violations("max_llm_calls_exceeded")).isEqualTo(1.0);
    assertThat(active()).isZero();
    assertThat(duration("GET /run").count()).isEqualTo(2);
    assertThat(duration("GET /run").totalTime(TimeUnit.MILLISECONDS)).isEqualTo(100.0);
    assertThat(duration("GET /users/{id}").count()).isEqualTo(3);
    assertThat(duration("default").count()).isEqualTo(1);
  }
}
