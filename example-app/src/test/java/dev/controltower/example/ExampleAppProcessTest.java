package dev.controltower.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The app as a real process: its command line, a bad setting, and SIGTERM with a request in flight. */
class ExampleAppProcessTest {
  private static final Pattern RUNNING = Pattern.compile("running on (http://127\\.0\\.0\\.1:\\d+)");

  private static ProcessBuilder app(String... options) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        ExampleApp.class.getName()));
    command.addAll(List.of(options));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.startsWith("CONTROLTOWER_"));
    return pb;
  }

  @Test
  void main_badPort_exitsWithClearMessage() throws Exception {
    Process p = app("--port=abc").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("bad configuration: port must be an integer but was 'abc'");
  }

  @Test
  void main_emptyAdminToken_exitsWithClearMessage() throws Exception {
    Process p = app("--admin-token=").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("bad configuration: admin-token must not be empty");
  }

  @Test
  void main_configuredToken_isNotPrinted() throws Exception {
    Process p = app("--port=0", "--admin-token=never-printed-token-0123").redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      StringBuilder seen = new StringBuilder();
      for (String line; (line = out.readLine()) != null && !line.startsWith("Stop with");) {
        seen.append(line).append('\n');
      }
      assertThat(seen).contains("running on").contains("<your admin token>").doesNotContain("never-printed-token");
    } finally {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void main_sigterm_finishesInFlightRequestThenExits() throws Exception {
    Process p = app("--port=0", "--admin-token=process-test-token-0123").redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String base = null;
      for (String line; base == null && (line = out.readLine()) != null;) {
        Matcher m = RUNNING.matcher(line);
        if (m.find()) {
          base = m.group(1);
        }
      }
      assertThat(base).as("the app prints its URL").isNotNull();
      // Keep draining the output so the app never blocks on a full pipe.
      Thread drain = new Thread(() -> out.lines().forEach(l -> { }));
      drain.setDaemon(true);
      drain.start();

      HttpClient http = HttpClient.newHttpClient();
      CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
          HttpRequest.newBuilder(URI.create(base + "/api/agent/run?steps=4&latency_ms=500"))
              .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      HttpRequest system = HttpRequest.newBuilder(URI.create(base + "/admin/api/system"))
          .header("Authorization", "Bearer process-test-token-0123").build();
      boolean active = false;
      for (int i = 0; i < 300 && !active; i++) {
        active = http.send(system, HttpResponse.BodyHandlers.ofString()).body().contains("\"active_processes\":1");
        if (!active) {
          Thread.sleep(10);
        }
      }
      assertThat(active).as("the agent run is in flight").isTrue();

      p.destroy(); // SIGTERM
      HttpResponse<String> finished = inFlight.get(30, TimeUnit.SECONDS);
      assertThat(finished.statusCode()).as(finished.body()).isEqualTo(200);
      assertThat(finished.body()).contains("\"llm_calls\":4");
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the app exits after SIGTERM").isTrue();
    } finally {
      p.destroyForcibly();
    }
  }
}
