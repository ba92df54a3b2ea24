package dev.controltower.example;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's curl walkthrough, against the real app on a free port: requests until 429 with
 * Retry-After, an agent run that ends in max_llm_calls_exceeded, the admin endpoints with and without
 * the token, and a quota adjustment that lets a running agent finish.
 */
class ExampleAppWalkthroughTest {
  static final String TOKEN = "walkthrough-token-0123456789";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();
  private ExampleApp app;

  @BeforeEach
  void start() throws Exception {
    app = ExampleApp.start(AppConfig.from(new String[] {"--port=0", "--admin-token=" + TOKEN}, name -> null));
  }

  @AfterEach
  void stop() throws Exception {
    app.stop();
  }

  private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(app.baseUrl() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode admin(String method, String path, String body) throws Exception {
    HttpResponse<String> r = send(method, "/admin/api/" + path, TOKEN, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json.readTree(r.body());
  }

  /** The pid of the one agent run in flight, as the admin API lists it. */
  private String awaitRunningPid() throws Exception {
    for (int i = 0; i < 200; i++) {
      JsonNode processes = admin("GET", "processes", null);
      if (processes.size() > 0) {
        return processes.get(0).get("pid").asText();
      }
      Thread.sleep(10);
    }
    return null;
  }

  @Test
  void hello_sixthRequestInAMinute_gets429WithRetryAfterAndProblemBody() throws Exception {
    for (int i = 1; i <= 5; i++) {
      HttpResponse<String> ok = send("GET", "/api/hello", null, null);
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.headers().firstValue("RateLimit-Policy")).hasValueSatisfying(v -> assertThat(v).contains("\"minute\";q=5;w=60"));
      String remaining = ";r=" + (5 - i);
      assertThat(ok.headers().firstValue("RateLimit")).hasValueSatisfying(v -> assertThat(v).contains(remaining));
    }
    HttpResponse<String> limited = send("GET", "/api/hello", null, null);
    assertThat(limited.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 60L);
    assertThat(limited.headers().firstValue("Cache-Control")).hasValue("no-store");
    assertThat(limited.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    JsonNode problem = json.readTree(limited.body());
    assertThat(problem.get("status").asInt()).isEqualTo(429);
    assertThat(problem.get("limit_type").asText()).isEqualTo("minute");
    assertThat(problem.get("limit").asLong()).isEqualTo(5);
    assertThat(problem.get("retry_after").asLong()).isEqualTo(retryAfter);
    // Other endpoints have their own budget.
    assertThat(send("POST", "/api/agent/run?steps=1", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void agentRun_moreStepsThanLlmCalls_endsWith429MaxLlmCallsExceeded() throws Exception {
    HttpResponse<String> runaway = send("POST", "/api/agent/run?steps=20", null, null);
    assertThat(runaway.statusCode()).isEqualTo(429);
    assertThat(runaway.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(runaway.body()).contains("max_llm_calls_exceeded");
    assertThat(runaway.headers().firstValue("Retry-After")).isEmpty();

    HttpResponse<String> fine = send("POST", "/api/agent/run?steps=5", null, null);
    assertThat(fine.statusCode()).isEqualTo(200);
    JsonNode summary = json.readTree(fine.body());
    assertThat(summary.at("/usage/llm_calls").asInt()).isEqualTo(5);
    assertThat(fine.headers().firstValue("X-Process-Id")).hasValue(summary.get("pid").asText());

    JsonNode system = admin("GET", "system", null);
    assertThat(system.get("system_llm_calls").asLong()).isEqualTo(16);
    assertThat(system.get("active_processes").asLong()).isZero();
    assertThat(system.get("total_processes").asLong()).isEqualTo(2);
  }

  @Test
  void admin_withoutOrWithWrongToken_401() throws Exception {
    for (String path : new String[] {"system", "processes", "users", "users/ip:127.0.0.1/usage"}) {
      HttpResponse<String> none = send("GET", "/admin/api/" + path, null, null);
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
      assertThat(send("GET", "/admin/api/" + path, "wrong-token-0123456789", null).statusCode()).isEqualTo(401);
    }
    assertThat(send("POST", "/admin/api/users/ip:127.0.0.1/reset", null, null).statusCode()).isEqualTo(401);
    assertThat(send("PATCH", "/admin/api/processes/x/quota", null, "{\"max_llm_calls\":1}").statusCode()).isEqualTo(401);
  }

  @Test
  void admin_usersAndReset_showWindowsAndClearThem() throws Exception {
    for (int i = 0; i < 6; i++) {
      send("GET", "/api/hello", null, null);
    }
    assertThat(send("GET", "/v1/users/1", null, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/v1/users/2", null, null).statusCode()).isEqualTo(200);

    JsonNode usage = admin("GET", "users/ip:127.0.0.1/usage", null);
    assertThat(usage.at("/endpoints/~1api~1hello/minute/current").asLong()).isEqualTo(5);
    assertThat(usage.at("/endpoints/~1api~1hello/minute/limit").asLong()).isEqualTo(5);
    assertThat(usage.at("/endpoints/GET ~1users~1{id}/minute/current").asLong())
        .as("both user ids count against one route template: %s", usage).isEqualTo(2);

    JsonNode users = admin("GET", "users", null);
    assertThat(users.isArray()).isTrue();
    assertThat(users.get(0).get("user").asText()).isEqualTo("ip:127.0.0.1");

    JsonNode reset = admin("POST", "users/ip:127.0.0.1/reset", null);
    assertThat(reset.get("windows_cleared").asInt()).isGreaterThanOrEqualTo(6);
    assertThat(send("GET", "/api/hello", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void admin_quotaAdjustment_letsARunningAgentFinish() throws Exception {
    // 15 steps of 150 ms: without the adjustment the 11th LLM call would end the run with 429.
    CompletableFuture<HttpResponse<String>> run = http.sendAsync(
        HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/agent/run?steps=15&latency_ms=150"))
            .POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    String pid = awaitRunningPid();
    assertThat(pid).as("the running agent shows up among the processes").isNotNull();
    JsonNode adjusted = admin("PATCH", "processes/" + pid + "/quota", "{\"max_llm_calls\": 30}");
    assertThat(adjusted.at("/quota/max_llm_calls").asInt()).isEqualTo(30);

    HttpResponse<String> finished = run.get(30, TimeUnit.SECONDS);
    assertThat(finished.statusCode()).as(finished.body()).isEqualTo(200);
    assertThat(json.readTree(finished.body()).at("/usage/llm_calls").asInt()).isEqualTo(15);
  }

  @Test
  void admin_badAdjustments_400And404() throws Exception {
    HttpResponse<String> unknown = send("PATCH", "/admin/api/processes/nope/quota", TOKEN, "{\"max_llm_calls\": 3}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    CompletableFuture<HttpResponse<String>> run = http.sendAsync(
        HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/agent/run?steps=4&latency_ms=300"))
            .POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    String pid = awaitRunningPid();
    assertThat(pid).isNotNull();
    HttpResponse<String> badKey = send("PATCH", "/admin/api/processes/" + pid + "/quota", TOKEN, "{\"max_lm_calls\": 3}");
    assertThat(badKey.statusCode()).isEqualTo(400);
    assertThat(badKey.body()).contains("max_lm_calls").contains("max_llm_calls");
    HttpResponse<String> negative = send("PATCH", "/admin/api/processes/" + pid + "/quota", TOKEN, "{\"max_llm_calls\": -1}");
    assertThat(negative.statusCode()).isEqualTo(400);
    assertThat(run.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }
}
