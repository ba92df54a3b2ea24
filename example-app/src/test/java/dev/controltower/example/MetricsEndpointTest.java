package dev.controltower.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /admin/metrics} on the running example app: behind the admin token, exact values after a
 * scripted sequence, clean under Prometheus's own linter ({@code promtool check metrics}), and no new
 * series however many raw paths clients invent.
 *
 * <p>The promtool test needs Debian's {@code prometheus} package ({@code .ci/run} installs it).
 * Without {@code promtool} it is skipped, unless the environment variable
 * {@code CONTROLTOWER_REQUIRE_PROMTOOL} is {@code 1} (or the system property
 * {@code controltower.requirePromtool} is true), as in CI, where a missing promtool is a failure.
 */
class MetricsEndpointTest {
  static final String TOKEN = "metrics-token-0123456789";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ExampleApp app;

  @BeforeEach
  void start() throws Exception {
    app = ExampleApp.start(AppConfig.from(new String[] {"--port=0", "--admin-token=" + TOKEN}, name -> null));
  }

  @AfterEach
  void stop() throws Exception {
    app.stop();
  }

  private HttpResponse<String> send(String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(app.baseUrl() + path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String scrape() throws Exception {
    // a release can run just after the client has its answer: wait for the gauge to settle
    for (int i = 0; i < 500 && app.tracker().getSystemUsage().activeProcesses() != 0; i++) {
      Thread.sleep(5);
    }
    HttpResponse<String> r = send("GET", "/admin/metrics", TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** The scripted sequence: 6 hellos (5 per minute), an agent over its quota, 3 JAX-RS calls. */
  private void scriptedTraffic() throws Exception {
    for (int i = 0; i < 6; i++) {
      send("GET", "/api/hello", null);
    }
    assertThat(send("POST", "/api/agent/run?steps=20", null).statusCode()).isEqualTo(429);
    assertThat(send("POST", "/api/agent/run?steps=2", null).statusCode()).isEqualTo(200);
    send("GET", "/v1/users/42", null);
    send("GET", "/v1/users/43", null);
    assertThat(send("GET", "/v1/no-such-thing", null).statusCode()).isEqualTo(404);
  }

  private static List<String> series(String scrape) {
    return scrape.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
  }

  @Test
  void metrics_withoutToken_is401AndWithTokenIsPrometheusText() throws Exception {
    assertThat(send("GET", "/admin/metrics", null).statusCode()).isEqualTo(401);
    assertThat(send("GET", "/admin/metrics", "wrong-token-0123456789").statusCode()).isEqualTo(401);

    HttpResponse<String> r = send("GET", "/admin/metrics", TOKEN);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow().replace(" ", ""))
        .startsWith("text/plain;").contains(";version=0.0.4").contains("charset=utf-8");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    assertThat(r.body()).contains("# TYPE controltower_processes_active gauge", "controltower_processes_active 0");
  }

  @Test
  void metrics_afterScriptedTraffic_haveExactValues() throws Exception {
    scriptedTraffic();

    assertThat(series(scrape())).contains(
        "controltower_requests_total{endpoint=\"/api/hello\",outcome=\"admitted\",window=\"minute\"} 5.0",
        "controltower_requests_total{endpoint=\"/api/hello\",outcome=\"rejected\",window=\"minute\"} 1.0",
        "controltower_requests_total{endpoint=\"/api/agent/run\",outcome=\"admitted\",window=\"minute\"} 2.0",
        "controltower_requests_total{endpoint=\"GET /users/{id}\",outcome=\"admitted\",window=\"minute\"} 2.0",
        "controltower_requests_total{endpoint=\"default\",outcome=\"admitted\",window=\"minute\"} 1.0",
        "controltower_quota_violations_total{reason=\"max_llm_calls_exceeded\"} 1.0",
        "controltower_quota_violations_total{reason=\"timeout_exceeded\"} 0.0",
        "controltower_processes_active 0.0",
        "controltower_process_duration_seconds_count{endpoint=\"/api/agent/run\"} 2",
        "controltower_process_duration_seconds_count{endpoint=\"/api/hello\"} 5");
  }

  @Test
  void metrics_afterFloodOfInventedPaths_haveTheSameSeries() throws Exception {
    scriptedTraffic();
    for (int i = 0; i < 30; i++) {               // so that both JAX-RS endpoints have refused once too
      send("GET", "/v1/users/1", null);
      send("GET", "/v1/no-such-thing", null);
    }
    List<String> before = series(scrape());

    for (int i = 0; i < 5_000; i++) {
      send("GET", (i % 2 == 0 ? "/api/invented-" : "/v1/users/invented-") + i, null);
    }
    String after = scrape();

    assertThat(series(after)).hasSameSizeAs(before);
    assertThat(after).doesNotContain("invented-");
  }

  @Test
  void metrics_realOutput_passPromtoolCheckWithoutLintProblems() throws Exception {
    Path promtool = Path.of("/usr/bin/promtool");
    if (!Files.isExecutable(promtool)) {
      if (Boolean.getBoolean("controltower.requirePromtool") || "1".equals(System.getenv("CONTROLTOWER_REQUIRE_PROMTOOL"))) {
        throw new AssertionError("promtool is required (CONTROLTOWER_REQUIRE_PROMTOOL=1) but /usr/bin/promtool is missing");
      }
      assumeTrue(false, "promtool is not installed; .ci/run installs Debian's prometheus package");
    }
    scriptedTraffic();
    String scrape = scrape();
    Path target = Path.of("target");
    Files.createDirectories(target);
    Files.writeString(target.resolve("admin-metrics.txt"), scrape);

    Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      in.write(scrape.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(output).as("promtool's findings").isEmpty();
    assertThat(p.exitValue()).as("promtool's exit status; output: " + output).isZero();
  }
}
