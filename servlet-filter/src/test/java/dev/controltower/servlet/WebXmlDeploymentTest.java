package dev.controltower.servlet;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.http.HttpAttributes;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The filter as a user deploys it: a webapp with a real {@code WEB-INF/web.xml} on embedded Jetty 12
 * (ee11), talked to over real sockets. The limiter and tracker are put in the servlet context before
 * start, with a fake clock, which is also how a JAX-RS application in the same webapp would share them.
 */
class WebXmlDeploymentTest {
  private static final String POLICY =
      Pk.with("\"minute\";q=3;w=60, \"hour\";q=100;w=3600, \"day\";q=1000;w=86400", "/api/x");

  private final FakeClock clock = FakeClock.atMillis(100_000);
  private final RateLimiter limiter = RateLimiter.builder().clock(clock)
      .defaultConfig(dev.controltower.resources.RateLimitConfig.builder()
          .requestsPerMinute(3).requestsPerHour(100).requestsPerDay(1000).build()).build();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
  private Server server;
  private WebAppContext webapp;
  private int port;
  private final String apiKey = "sk-live-" + UUID.randomUUID();

  @BeforeEach
  void startWebapp() throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setPort(0);
    server.addConnector(connector);
    webapp = new WebAppContext();
    webapp.setContextPath("/");
    webapp.setBaseResourceAsPath(Path.of("src/test/webapp"));
    webapp.setParentLoaderPriority(true);
    webapp.setThrowUnavailableOnStartupException(true);
    webapp.setAttribute(HttpAttributes.RATE_LIMITER, limiter);
    webapp.setAttribute(HttpAttributes.RESOURCE_TRACKER, tracker);
    server.setHandler(webapp);
    server.start();
    port = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
  }

  private RawHttp.Response get(String target, String... headers) throws Exception {
    String[] all = new String[headers.length + 1];
    all[0] = "X-API-Key: " + apiKey;
    System.arraycopy(headers, 0, all, 1, headers.length);
    return RawHttp.get(port, target, all);
  }

  private String userKey() throws Exception {
    // Dry-run nothing: read the key the filter derived, as the application sees it.
    String body = get("/health").body(); // excluded: counts nothing
    assertThat(body).contains("untracked");
    return "key:" + sha256Prefix(apiKey);
  }

  private static String sha256Prefix(String text) throws Exception {
    byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      out.append(String.format("%02x", d[i]));
    }
    return out.toString();
  }

  private long counted(String endpoint) throws Exception {
    return limiter.getUsage(userKey(), endpoint).get(dev.controltower.resources.LimitType.MINUTE).current();
  }

  private void awaitNoActiveProcess() throws InterruptedException {
    ActiveProcesses.awaitNone(tracker, Duration.ofSeconds(10));
  }

  @Test
  void get_withinLimit_admitsWithRateLimitFieldsAndPid() throws Exception {
    RawHttp.Response r = get("/api/x");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("REQUEST key=" + userKey() + " endpoint=/api/x");
    assertThat(r.header("RateLimit-Policy")).isEqualTo(POLICY);
    assertThat(r.header("RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "/api/x"));
    assertThat(r.header("X-Process-Id")).matches("[0-9a-f-]{36}");
    assertThat(r.header("Retry-After")).isNull();
    // web.xml registers the filter twice: the fields are added once, by the registration that counted
    for (String name : List.of("ratelimit-policy", "ratelimit", "x-process-id")) {
      assertThat(r.headers().get(name)).as(name).hasSize(1);
    }
    awaitNoActiveProcess();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void get_overLimit_is429WithExactHeadersAndProblemBody() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(get("/api/x").status()).isEqualTo(200);
    }

    RawHttp.Response r = get("/api/x");

    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("Retry-After")).isEqualTo("60");
    assertThat(r.header("RateLimit-Policy")).isEqualTo(POLICY);
    assertThat(r.header("RateLimit")).isEqualTo(Pk.with("\"minute\";r=0;t=60", "/api/x"));
    assertThat(r.header("Cache-Control")).isEqualTo("no-store");
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.header("X-Process-Id")).isNull();
    assertThat(r.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Rate limit exceeded: 3/3 requests per minute\",\"limit_type\":\"minute\","
        + "\"limit\":3,\"current\":3,\"retry_after\":60,\"violated-policies\":[\"minute\"]}");
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(3);
  }

  @Test
  void retryAfter_followsInjectedClock_andWaitingItOutAdmits() throws Exception {
    for (int i = 0; i < 3; i++) {
      get("/api/x");
    }
    clock.advanceMillis(59_200);

    RawHttp.Response r = get("/api/x");
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("Retry-After")).isEqualTo("1"); // 0.8 s, rounded up
    assertThat(r.header("RateLimit")).isEqualTo(Pk.with("\"minute\";r=0;t=1", "/api/x"));

    clock.advanceMillis(800);
    assertThat(get("/api/x").status()).isEqualTo(200);
  }

  @Test
  void get_otherEndpoint_hasItsOwnBucket() throws Exception {
    for (int i = 0; i < 3; i++) {
      get("/api/x");
    }

    assertThat(get("/api/users/7").status()).isEqualTo(200);
    assertThat(get("/elsewhere").body()).endsWith("endpoint=default");
  }

  @Test
  void get_quotaExceededInServlet_is429WithViolationCodeAndPidReleased() throws Exception {
    RawHttp.Response r = get("/api/x?llm=3");

    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.header("Cache-Control")).isEqualTo("no-store");
    assertThat(r.header("X-Process-Id")).isNotNull();
    assertThat(r.body()).isEqualTo("{\"type\":\"urn:controltower:problem:quota:max_llm_calls_exceeded\","
        + "\"title\":\"Resource quota exceeded\",\"status\":429,"
        + "\"detail\":\"The request exceeded its resource quota: max_llm_calls_exceeded\","
        + "\"reason\":\"max_llm_calls_exceeded\",\"limit\":2,\"current\":3}");
    awaitNoActiveProcess();
    assertThat(tracker.getSystemUsage().systemLlmCalls()).isEqualTo(3);
  }

  @Test
  void get_withinQuota_recordsUsageThroughRequestAttribute() throws Exception {
    assertThat(get("/api/x?llm=2&tool=5").status()).isEqualTo(200);

    assertThat(tracker.getSystemUsage().systemLlmCalls()).isEqualTo(2);
    assertThat(tracker.getSystemUsage().systemToolCalls()).isEqualTo(5);
    assertThat(tracker.getSystemUsage().systemTokensIn()).isEqualTo(200);
  }

  @Test
  void forward_isCountedOnce() throws Exception {
    RawHttp.Response r = get("/api/x?forward=/api/x");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("FORWARD key=");
    assertThat(counted("/api/x")).isEqualTo(1);
  }

  @Test
  void include_isCountedOnce() throws Exception {
    RawHttp.Response r = get("/api/x?include=/api/x");

    assertThat(r.body()).isEqualTo("included");
    assertThat(counted("/api/x")).isEqualTo(1);
  }

  @Test
  void errorDispatch_isCountedOnce() throws Exception {
    RawHttp.Response r = get("/api/x?error=500");

    assertThat(r.status()).isEqualTo(500);
    assertThat(r.body()).startsWith("ERROR ");
    assertThat(counted("/api/x")).isEqualTo(1);
  }

  @Test
  void servletThrows_errorPageIsNotCountedAndPidIsReleased() throws Exception {
    RawHttp.Response runtime = get("/api/x?throw=runtime");
    RawHttp.Response servlet = get("/api/x?throw=servlet");

    assertThat(runtime.status()).isEqualTo(500);
    assertThat(servlet.status()).isEqualTo(500);
    assertThat(counted("/api/x")).isEqualTo(2);
    awaitNoActiveProcess();
  }

  @Test
  void asyncRedispatch_isCountedOnce() throws Exception {
    RawHttp.Response r = get("/api/x?async=dispatch");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("ASYNC key=");
    assertThat(counted("/api/x")).isEqualTo(1);
    awaitNoActiveProcess();
  }

  @Test
  void asyncComplete_releasesPidOnCompletion() throws Exception {
    RawHttp.Response r = get("/api/x?async=complete");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("async key=");
    awaitNoActiveProcess();
  }

  @Test
  void asyncTimeout_releasesPidOnTimeout() throws Exception {
    RawHttp.Response r = get("/api/x?async=timeout&timeout=250");

    assertThat(r.status()).isEqualTo(500);
    assertThat(counted("/api/x")).isEqualTo(1);
    awaitNoActiveProcess();
  }

  @Test
  void corsPreflight_isNotCounted() throws Exception {
    for (int i = 0; i < 5; i++) {
      RawHttp.Response r = RawHttp.send(port, "OPTIONS", "/api/x", "X-API-Key: " + apiKey,
          "Origin: https://app.example", "Access-Control-Request-Method: POST");
      assertThat(r.header("RateLimit")).isNull();
    }

    assertThat(counted("/api/x")).isZero();
    assertThat(get("/api/x").status()).isEqualTo(200);
  }

  @Test
  void plainOptions_isCounted() throws Exception {
    RawHttp.send(port, "OPTIONS", "/api/x", "X-API-Key: " + apiKey);

    assertThat(counted("/api/x")).isEqualTo(1);
  }

  @Test
  void excludedPath_isNeitherCountedNorTracked() throws Exception {
    RawHttp.Response r = get("/health");

    assertThat(r.header("RateLimit")).isNull();
    assertThat(r.header("X-Process-Id")).isNull();
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
    assertThat(limiter.trackedKeys()).isZero();
  }

  @Test
  void servletContext_holdsTheSharedInstances() {
    assertThat(webapp.getServletContext().getAttribute(HttpAttributes.RATE_LIMITER)).isSameAs(limiter);
    assertThat(webapp.getServletContext().getAttribute(HttpAttributes.RESOURCE_TRACKER)).isSameAs(tracker);
  }

  @Test
  void sharedLimiter_budgetSpentElsewhereCountsHere() throws Exception {
    // What a JAX-RS application sharing the limiter would do: spend the user's budget on the same endpoint.
    String key = userKey();
    limiter.checkRateLimit(key, "/api/x");
    limiter.checkRateLimit(key, "/api/x");

    assertThat(get("/api/x").header("RateLimit")).isEqualTo(Pk.with("\"minute\";r=0;t=60", "/api/x"));
    assertThat(get("/api/x").status()).isEqualTo(429);
  }
}
