package dev.controltower.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.http.HttpSettings;
import dev.controltower.jaxrs.QuotaInterceptor;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.RecordingLogger;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.RateLimitFilter;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.kit.FakeClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import org.glassfish.jersey.server.ResourceConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * What clients cannot do to the metrics: grow the number of series by inventing users or paths, and
 * what a broken listener cannot do to the requests.
 */
class CardinalityAndFailureTest {
  private static final int FLOOD = 5_000;

  private final FakeClock clock = FakeClock.atMillis(1_000_000);
  private final PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ControlTowerMetrics metrics = new ControlTowerMetrics();
  private RateLimiter limiter;
  private ResourceTracker tracker;

  @BeforeEach
  void setUp() {
    Harness.clock = clock;
    metrics.bindTo(prometheus);
    limiter = RateLimiter.builder().clock(clock).listener(metrics)
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(2).requestsPerHour(100).requestsPerDay(1000).build())
        .build();
    tracker = ResourceTracker.builder().clock(clock).build();
  }

  /** The samples of a scrape: every line that is not a comment. */
  static List<String> series(String scrape) {
    return scrape.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
  }

  @Test
  void servletFilter_floodOfInventedUsersAndPaths_addsNoSeries() throws Exception {
    try (Harness h = Harness.servlet(new RateLimitFilter(limiter, tracker),
        Map.of("user-header", "X-API-Key", "endpoint-patterns", "/api/*"), c -> {})) {
      for (int i = 0; i < 3; i++) {                 // admitted twice, then rejected, on both endpoints
        h.get("/api/x", "X-API-Key", "known");
        h.get("/elsewhere", "X-API-Key", "known");
      }
      Harness.awaitZero(tracker.getSystemUsage()::activeProcesses);
      List<String> before = series(prometheus.scrape());

      for (int i = 0; i < FLOOD; i++) {
        String user = "invented-" + i;
        h.get((i % 2 == 0 ? "/api/" : "/raw/") + user + "/" + i, "X-API-Key", user);
        if (i % 1000 == 0) {                        // this user has 1 of its 2 on /api/* left
          h.get("/api/x", "X-API-Key", user);
          h.get("/api/x", "X-API-Key", user);       // rejected: an old series
        }
      }
      Harness.awaitZero(tracker.getSystemUsage()::activeProcesses);
      String after = prometheus.scrape();

      assertThat(series(after)).hasSameSizeAs(before);
      assertThat(after).doesNotContain("invented-").doesNotContain("/raw/");
      assertThat(prometheus.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "/api/*").tag("outcome", "admitted")
          .functionCounter().count()).isEqualTo(2 + FLOOD / 2 + FLOOD / 1000);
    }
  }

  @Test
  void jaxRsInterceptor_floodOfInventedIdsAndUsers_addsNoSeries() throws Exception {
    ResourceConfig app = new ResourceConfig()
        .register(new QuotaInterceptor(limiter, tracker, HttpSettings.fromMap(Map.of("user-header", "X-API-Key"))))
        .register(Harness.Resources.class);
    try (Harness h = Harness.jersey(app)) {
      for (int i = 0; i < 3; i++) {
        h.get("/users/1", "X-API-Key", "known");
        h.get("/nothing/here", "X-API-Key", "known");
      }
      Harness.awaitZero(tracker.getSystemUsage()::activeProcesses);
      List<String> before = series(prometheus.scrape());

      for (int i = 0; i < FLOOD; i++) {
        h.get((i % 2 == 0 ? "/users/" : "/nothing/") + "invented-" + i, "X-API-Key", "invented-" + i);
      }
      Harness.awaitZero(tracker.getSystemUsage()::activeProcesses);
      String after = prometheus.scrape();

      assertThat(series(after)).hasSameSizeAs(before);
      assertThat(after).doesNotContain("invented-");
    }
  }

  @Test
  void servletFilter_listenerThatThrows_answersAsWithoutOneAndLogsOnce() throws Exception {
    RecordingLogger log = new RecordingLogger();
    ControlTowerListener broken = ControlTowerListener.guarded(new ControlTowerListener() {
      @Override
      public void onAdmitted(String endpoint, LimitType window) {
        throw new IllegalStateException("metrics backend down");
      }

      @Override
      public void onRejected(String endpoint, LimitType window) {
        throw new IllegalStateException("metrics backend down");
      }

      @Override
      public void onProcessStarted(String endpoint) {
        throw new IllegalStateException("metrics backend down");
      }

      @Override
      public void onProcessEnded(String endpoint, long durationNanos) {
        throw new IllegalStateException("metrics backend down");
      }
    }, log);
    RateLimiter throwing = RateLimiter.builder().clock(clock).listener(broken)
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(2).build()).build();
    try (Harness h = Harness.servlet(new RateLimitFilter(throwing, tracker), Map.of(), c -> {})) {
      assertThat(List.of(h.get("/a"), h.get("/a"), h.get("/a"), h.get("/a"))).containsExactly(200, 200, 429, 429);
      Harness.awaitZero(tracker.getSystemUsage()::activeProcesses);
    }

    assertThat(log.lines()).hasSize(1);
    assertThat(log.lines().get(0).level()).isEqualTo(Level.WARN);
    assertThat(log.lines().get(0).message()).contains("logged once");
  }
}
