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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Loads the live dashboard in headless Chromium while traffic runs, checks that the page shows the
 * live figures, and saves a screenshot as {@code target/dashboard.png}.
 *
 * <p>Needs {@code chromium} (Debian's package; {@code .ci/run} installs it). Without it the test is
 * skipped, unless the environment variable {@code CONTROLTOWER_REQUIRE_BROWSER} is {@code 1} (or the
 * system property {@code controltower.requireBrowser} is true), as in CI, where a missing browser is a
 * failure.
 */
class DashboardBrowserTest {
  static final String TOKEN = "dashboard-token-0123456789";
  private ExampleApp app;
  private final AtomicBoolean trafficRuns = new AtomicBoolean(true);
  private Thread traffic;

  @BeforeEach
  void start() throws Exception {
    app = ExampleApp.start(AppConfig.from(new String[] {"--port=0", "--admin-token=" + TOKEN}, name -> null));
  }

  @AfterEach
  void stop() throws Exception {
    trafficRuns.set(false);
    if (traffic != null) {
      traffic.join(10_000);
    }
    app.stop();
  }

  private static Path chromium() {
    for (String candidate : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
      Path p = Path.of(candidate);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private List<String> chromiumCommand(Path browser, Path profile, String... extra) {
    List<String> cmd = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
        "--window-size=1280,900", "--virtual-time-budget=4000"));
    cmd.addAll(List.of(extra));
    cmd.add(app.baseUrl() + "/admin/dashboard#token=" + TOKEN);
    return cmd;
  }

  private static String run(List<String> command, Path log) throws Exception {
    Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 90 s: " + command);
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  private static String between(String text, String start, String end) {
    int from = text.indexOf(start);
    assertThat(from).as("page has %s", start).isGreaterThanOrEqualTo(0);
    int to = text.indexOf(end, from);
    assertThat(to).as("page closes %s", start).isGreaterThan(from);
    return text.substring(from, to);
  }

  @Test
  void dashboard_whileTrafficRuns_showsLiveUsageAndProcesses() throws Exception {
    Path browser = chromium();
    if (browser == null) {
      if (Boolean.getBoolean("controltower.requireBrowser") || "1".equals(System.getenv("CONTROLTOWER_REQUIRE_BROWSER"))) {
        throw new AssertionError("chromium is required (CONTROLTOWER_REQUIRE_BROWSER=1) but not installed");
      }
      assumeTrue(false, "chromium is not installed; .ci/run installs it");
    }
    HttpClient http = HttpClient.newHttpClient();
    // Steady traffic from this machine, and one slow agent run that stays active while the page loads.
    traffic = new Thread(() -> {
      while (trafficRuns.get()) {
        try {
          http.send(HttpRequest.newBuilder(URI.create(app.baseUrl() + "/v1/users/7")).build(), HttpResponse.BodyHandlers.discarding());
          http.send(HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/hello")).build(), HttpResponse.BodyHandlers.discarding());
          Thread.sleep(50);
        } catch (Exception e) {
          return;
        }
      }
    });
    traffic.start();
    http.sendAsync(HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/agent/run?steps=3&latency_ms=2500"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    for (int i = 0; i < 500 && app.tracker().getSystemUsage().activeProcesses() == 0; i++) {
      Thread.sleep(10);
    }

    Path target = Path.of("target");
    Files.createDirectories(target);
    Path profile = Files.createTempDirectory(target, "chromium-profile");
    String dom = run(chromiumCommand(browser, profile, "--dump-dom"), target.resolve("chromium-dom.log"));

    assertThat(dom).contains("Control Tower");
    assertThat(dom).as("status line shows live updates").contains("live · updated");
    String users = between(dom, "<tbody id=\"users\">", "</tbody>");
    assertThat(users).as("the traffic's user appears with both endpoints")
        .contains("data-user=\"ip:127.0.0.1\"").contains(">/api/hello<").contains(">GET /users/{id}<")
        .doesNotContain("no traffic yet");
    assertThat(dom).as("the users table has the token and in-flight columns")
        .contains("<th>tokens / min</th>").contains("<th>in flight</th>");
    String agentRow = between(users, "data-endpoint=\"/api/agent/run\"", "</tr>");
    assertThat(agentRow).as("the running agent's tokens (its reservation) and its slot, from the usage data")
        .containsPattern("class=\"tokens\"><span class=\"bar\">.*?</span><span>[1-9]\\d* / 20000</span>")
        .contains("<span>1 / 2</span>");
    assertThat(between(users, "data-endpoint=\"/api/hello\"", "</tr>")).as("no token window on /api/hello")
        .contains("class=\"empty tokens\">–<");
    String processes = between(dom, "<tbody id=\"processes\">", "</tbody>");
    assertThat(processes).as("the slow agent run is listed as an active process")
        .contains("data-pid=").contains(">running<").doesNotContain("no active process");
    assertThat(between(dom, "<b id=\"rate-admitted\">", "</b>")).as("the admitted rate is drawn from /admin/metrics")
        .endsWith("/s");
    assertThat(between(dom, "<b id=\"rate-rejected\">", "</b>")).as("the rejected rate too").endsWith("/s");
    assertThat(dom).as("the chart has points").containsPattern("<canvas id=\"rates\"[^>]*data-points=\"[1-9]");
    String system = between(dom, "<div class=\"cards\" id=\"system\">", "</section>");
    assertThat(system).as("system totals are filled in").contains("active processes").contains("rate-limit keys");

    Path screenshot = target.resolve("dashboard.png").toAbsolutePath();
    Files.deleteIfExists(screenshot);
    run(chromiumCommand(browser, Files.createTempDirectory(target, "chromium-profile"), "--screenshot=" + screenshot),
        target.resolve("chromium-screenshot.log"));
    assertThat(screenshot).exists();
    assertThat(Files.size(screenshot)).isGreaterThan(10_000);
  }
}
