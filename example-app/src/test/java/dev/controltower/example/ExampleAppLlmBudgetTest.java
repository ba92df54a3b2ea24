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
 * The README's LLM-budget walkthrough, against the real app with its defaults: 20,000 tokens per user per
 * minute and 2 runs at once on {@code POST /api/agent/run}. A run of 10 steps spends 6,815 tokens, so the
 * third run in a minute is stopped by the token 429; a third run while two are running gets the
 * concurrency 429.
 */
class ExampleAppLlmBudgetTest {
  static final String TOKEN = "llm-budget-token-0123456789";
  /** What a 10-step run spends: prompts 300 + 40 * step, outputs 120 + (37 * step) % 90. */
  static final long TEN_STEP_TOKENS = 6_815;
  /** OpenAI's duration form: {@code 6m0s}, {@code 59.75s}, {@code 1s}, {@code 250ms}. */
  static final String RESET_FORMAT = "(\\d+h)?(\\d+m)?\\d+(\\.\\d+)?s|\\d+ms";
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

  private HttpRequest post(String path) {
    return HttpRequest.newBuilder(URI.create(app.baseUrl() + path)).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.noBody()).build();
  }

  private HttpResponse<String> run(String query) throws Exception {
    return http.send(post("/api/agent/run?" + query), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode usage() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(app.baseUrl() + "/admin/api/users/ip:127.0.0.1/usage"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json.readTree(r.body()).at("/endpoints/~1api~1agent~1run");
  }

  @Test
  void agentRun_thirdLongRunInAMinute_endsWithTheToken429() throws Exception {
    HttpResponse<String> first = run("steps=10");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("20000");
    // The fields are written when the response starts, after the run's reservations were settled.
    assertThat(first.headers().firstValue("x-ratelimit-remaining-tokens")).hasValueSatisfying(v ->
        assertThat(Long.parseLong(v)).isBetween(0L, 20_000L));
    assertThat(first.headers().firstValue("x-ratelimit-reset-tokens")).hasValueSatisfying(v ->
        assertThat(v).matches(RESET_FORMAT));
    assertThat(usage().at("/tokens-minute/current").asLong()).isEqualTo(TEN_STEP_TOKENS);

    assertThat(run("steps=10").statusCode()).isEqualTo(200);
    HttpResponse<String> third = run("steps=10");
    assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
    long retryAfter = Long.parseLong(third.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 60L);
    assertThat(third.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(third.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("20000");
    assertThat(third.headers().firstValue("x-ratelimit-remaining-tokens")).hasValue("0");
    assertThat(third.headers().firstValue("x-ratelimit-reset-tokens")).hasValueSatisfying(v -> assertThat(v).matches(RESET_FORMAT));
    JsonNode problem = json.readTree(third.body());
    assertThat(problem.get("status").asInt()).isEqualTo(429);
    assertThat(problem.get("limit_type").asText()).isEqualTo("tokens-minute");
    assertThat(problem.get("limit").asLong()).isEqualTo(20_000);
    assertThat(problem.get("retry_after").asLong()).isEqualTo(retryAfter);

    // Reservations never take the window over its limit: the refused call's reservation counted nothing,
    // and the calls the third run made before it were settled at their actual counts.
    JsonNode tokens = usage().at("/tokens-minute");
    assertThat(tokens.get("limit").asLong()).isEqualTo(20_000);
    assertThat(tokens.get("current").asLong()).isBetween(2 * TEN_STEP_TOKENS, 20_000L);
    assertThat(tokens.get("remaining").asLong()).isEqualTo(20_000 - tokens.get("current").asLong());
    assertThat(tokens.get("reset_in_seconds").asLong()).isBetween(1L, 60L);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (usage().at("/concurrency/current").asLong() > 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(usage().at("/concurrency/current").asLong()).as("the refused run gave its slot back").isZero();
  }

  @Test
  void agentRun_thirdRunAtOnce_getsTheConcurrency429() throws Exception {
    CompletableFuture<HttpResponse<String>> a = http.sendAsync(post("/api/agent/run?steps=3&latency_ms=700"), HttpResponse.BodyHandlers.ofString());
    CompletableFuture<HttpResponse<String>> b = http.sendAsync(post("/api/agent/run?steps=3&latency_ms=700"), HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (usage().at("/concurrency/current").asLong() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    JsonNode concurrency = usage().at("/concurrency");
    assertThat(concurrency.get("current").asLong()).as("both runs are in flight: %s", concurrency).isEqualTo(2);
    assertThat(concurrency.get("limit").asLong()).isEqualTo(2);

    HttpResponse<String> third = run("steps=1");
    assertThat(third.statusCode()).as(third.body()).isEqualTo(429);
    assertThat(third.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(third.headers().firstValue("RateLimit-Policy")).hasValueSatisfying(v ->
        assertThat(v).contains("\"concurrency\";q=2;qu=\"concurrent-requests\""));
    JsonNode problem = json.readTree(third.body());
    assertThat(problem.get("limit_type").asText()).isEqualTo("concurrency");
    assertThat(problem.get("limit").asLong()).isEqualTo(2);

    assertThat(a.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(b.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    // The slot is returned when the response completes on the server, a moment after the client has it.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (usage().at("/concurrency/current").asLong() > 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(usage().at("/concurrency/current").asLong()).as("slots come back when the runs end").isZero();
    assertThat(run("steps=1").statusCode()).isEqualTo(200);
  }

  @Test
  void agentRun_limitsAreConfigurable() throws Exception {
    app.stop();
    app = ExampleApp.start(AppConfig.from(new String[] {"--port=0", "--admin-token=" + TOKEN, "--max-concurrent-runs=0"},
        name -> "CONTROLTOWER_TOKENS_PER_MINUTE".equals(name) ? "1000" : null));
    HttpResponse<String> small = run("steps=1");
    assertThat(small.statusCode()).as(small.body()).isEqualTo(200);
    assertThat(small.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("1000");
    HttpResponse<String> refused = run("steps=3");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
    assertThat(json.readTree(refused.body()).get("limit_type").asText()).isEqualTo("tokens-minute");
    assertThat(usage().has("concurrency")).as("no concurrency limit: %s", usage()).isFalse();
  }
}
