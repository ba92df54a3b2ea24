package dev.controltower.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.testapp.EchoServlet;
import dev.controltower.spi.kit.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Token budgets and concurrency slots on the wire (http.md), in embedded Jetty: the token fields, the
 * token 429 of a refused reservation, the concurrency 429, and the slot's return however a request
 * ends (normally, by an exception, by an async timeout, by a quota violation).
 */
class TokensAndConcurrencyTest {
  private static final String ENDPOINT = "/api/x";
  private final FakeClock clock = FakeClock.atSeconds(100);
  private final ResourceTracker tracker = ResourceTracker.create();
  private EmbeddedJetty jetty;

  @AfterEach
  void stop() throws Exception {
    EchoServlet.hold.countDown();
    jetty.close();
  }

  private RateLimiter limiter(RateLimitConfig config) {
    return RateLimiter.builder().clock(clock).defaultConfig(config).build();
  }

  private int start(RateLimiter limiter) throws Exception {
    jetty = EmbeddedJetty.start(new RateLimitFilter(limiter, tracker), Map.of("endpoint-patterns", ENDPOINT,
        "max-llm-calls", "3"));
    return jetty.port();
  }

  private static long held(RateLimiter limiter) {
    return limiter.getUsage("ip:127.0.0.1", ENDPOINT).get(LimitType.CONCURRENCY).current();
  }

  @Test
  void get_tokenEndpoint_tokenFieldsThenTheTokens429() throws Exception {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(100).requestsPerHour(0)
        .requestsPerDay(0).tokensPerMinute(1000).build());
    int port = start(limiter);

    RawHttp.Response first = RawHttp.get(port, ENDPOINT + "?reserve=800&tokens=300,200");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.header("x-ratelimit-limit-tokens")).isEqualTo("1000");
    assertThat(first.header("x-ratelimit-remaining-tokens")).isEqualTo("1000");
    assertThat(first.header("x-ratelimit-reset-tokens")).isEqualTo("0s");
    clock.advanceMillis(250);
    RawHttp.Response second = RawHttp.get(port, ENDPOINT);
    assertThat(second.header("x-ratelimit-remaining-tokens")).isEqualTo("500");
    assertThat(second.header("x-ratelimit-reset-tokens")).isEqualTo("59.75s");

    RawHttp.Response refused = RawHttp.get(port, ENDPOINT + "?reserve=600&tokens=1,1");

    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.header("Retry-After")).isEqualTo("60");
    assertThat(refused.header("x-ratelimit-limit-tokens")).isEqualTo("1000");
    assertThat(refused.header("x-ratelimit-remaining-tokens")).isEqualTo("0");
    assertThat(refused.header("x-ratelimit-reset-tokens")).isEqualTo("59.75s");
    assertThat(refused.header("RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=100;w=60", ENDPOINT));
    assertThat(refused.header("X-Process-Id")).isNotBlank();
    assertThat(refused.header("Cache-Control")).isEqualTo("no-store");
    assertThat(refused.header("Content-Type")).isEqualTo("application/problem+json");
    assertThat(refused.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Token limit exceeded: 500/1000 tokens per minute, and this call reserves 600\","
        + "\"limit_type\":\"tokens-minute\",\"limit\":1000,\"current\":500,\"retry_after\":60,"
        + "\"violated-policies\":[\"tokens-minute\"]}");
    ActiveProcesses.awaitNone(tracker, Duration.ofSeconds(5));

    limiter.recordTokens("ip:127.0.0.1", ENDPOINT, 500);
    RawHttp.Response full = RawHttp.get(port, ENDPOINT);
    assertThat(full.status()).as("a full token window refuses the request itself").isEqualTo(429);
    assertThat(full.body()).contains("\"limit_type\":\"tokens-minute\"", "\"retry_after\":60");
  }

  @Test
  void get_tokenParametersFromInitParams_limitTheEndpoint() throws Exception {
    jetty = EmbeddedJetty.start(new RateLimitFilter(), Map.of("tokens-per-minute", "20000",
        "max-concurrent-requests", "2"));
    RawHttp.Response r = RawHttp.get(jetty.port(), "/anything");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("x-ratelimit-limit-tokens")).isEqualTo("20000");
    assertThat(r.header("RateLimit-Policy")).endsWith(Pk.with("\"concurrency\";q=2;qu=\"concurrent-requests\"",
        "default"));
  }

  @Test
  void get_concurrencyLimitHeld_429ConcurrentRequests_thenTheSlotsComeBack() throws Exception {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(1000).requestsPerHour(0)
        .requestsPerDay(0).maxConcurrentRequests(2).build());
    int port = start(limiter);
    EchoServlet.hold = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<RawHttp.Response>> running = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        running.add(pool.submit(() -> RawHttp.get(port, ENDPOINT + "?hold=1")));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (held(limiter) < 2 && System.nanoTime() < deadline) {
        Thread.sleep(5); // waits for the two requests to be admitted, not for time to pass
      }

      RawHttp.Response refused = RawHttp.get(port, ENDPOINT);
      EchoServlet.hold.countDown();

      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      assertThat(refused.header("RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=1000;w=60", ENDPOINT) + ", "
          + Pk.with("\"concurrency\";q=2;qu=\"concurrent-requests\"", ENDPOINT));
      assertThat(refused.header("RateLimit")).isEqualTo(Pk.with("\"concurrency\";r=0;t=1", ENDPOINT));
      assertThat(refused.header("X-Process-Id")).isNull();
      assertThat(refused.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
          + "\"title\":\"Too Many Requests\",\"status\":429,"
          + "\"detail\":\"Concurrency limit exceeded: 2/2 requests running\",\"limit_type\":\"concurrency\","
          + "\"limit\":2,\"current\":2,\"retry_after\":1,\"violated-policies\":[\"concurrency\"]}");
      for (Future<RawHttp.Response> f : running) {
        assertThat(f.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
      }
    } finally {
      pool.shutdownNow();
    }
    ActiveProcesses.awaitNone(tracker, Duration.ofSeconds(5));
    assertThat(held(limiter)).isZero();
  }

  @Test
  void get_requestsEndingEveryWay_returnTheirSlots() throws Exception {
    RateLimiter limiter = limiter(RateLimitConfig.builder().requestsPerMinute(1000).requestsPerHour(0)
        .requestsPerDay(0).tokensPerMinute(100_000).maxConcurrentRequests(1).build());
    int port = start(limiter);
    String[] endings = {"?throw=runtime", "?throw=servlet", "?async=timeout&timeout=20", "?async=complete",
        "?llm=4", "?reserve=500", "?reserve=200000", ""};
    for (int round = 0; round < 3; round++) {
      for (String ending : endings) {
        RawHttp.Response r = RawHttp.get(port, ENDPOINT + ending);
        assertThat(r.body()).as("%s: never refused for a slot a finished request kept", ending)
            .doesNotContain("\"limit_type\":\"concurrency\"");
        ActiveProcesses.awaitNone(tracker, Duration.ofSeconds(5));
        assertThat(held(limiter)).as("after %s", ending).isZero();
      }
    }
    assertThat(limiter.getUsage("ip:127.0.0.1", ENDPOINT).get(LimitType.TOKENS_MINUTE).current())
        .as("3 x 4 LLM calls of 150 tokens (the 4th, over the quota, was made: it counts); every reservation"
            + " given back").isEqualTo(3 * 4 * 150);
  }
}
