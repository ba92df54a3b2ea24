package dev.controltower.jaxrs;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.controltower.http.ClientIdentityResolver;
import dev.controltower.http.HttpAttributes;
import dev.controltower.http.HttpSettings;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.RateLimitFilter;
import jakarta.servlet.DispatcherType;
import jakarta.ws.rs.core.Application;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The wire contract of {@link QuotaInterceptor} (spec/http.md), over real HTTP in embedded Jetty. Each
 * subclass runs it on one Jakarta REST runtime, so the provider is proven portable.
 */
abstract class QuotaInterceptorContract {

  /** The runtime under test. */
  abstract JaxRsRuntime runtime();

  static final String LOCAL = "ip:127.0.0.1";

  final FakeClock clock = FakeClock.atSeconds(100);
  RateLimiter limiter;
  ResourceTracker tracker;
  Server server;
  ServletContextHandler context;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void createInstances() {
    limiter = RateLimiter.builder().clock(clock)
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(0).requestsPerDay(0).build())
        .build();
    tracker = ResourceTracker.builder().clock(clock).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  /** Serves {@code app} under {@code /api}, with the servlet initializer of the jar as a webapp would run it. */
  void start(Application app) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    context = new ServletContextHandler("/");
    context.addServletContainerInitializer(new QuotaServletInitializer());
    runtime().mount(context, "/api", app);
    server.setHandler(context);
    server.start();
  }

  void startDefault() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker)));
  }

  URI uri(String path) {
    int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    return URI.create("http://127.0.0.1:" + port + path);
  }

  HttpResponse<String> send(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
        .timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path, String... headers) throws Exception {
    return send("GET", path, headers);
  }

  static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  /** The tracker's active count once in-flight completions have run (the client may see a response first). */
  long activeProcessesEventually() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    long active = tracker.getSystemUsage().activeProcesses();
    while (active != 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      Thread.sleep(5); // waits for another thread's completion, not for time to pass: the clock is fake
      active = tracker.getSystemUsage().activeProcesses();
    }
    return active;
  }

  @Test
  void get_underLimit_returns200WithRateLimitFieldsAndProcessId() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/users/1");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=3;w=60", "GET /users/{id}"));
    assertThat(header(r, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "GET /users/{id}"));
    assertThat(header(r, "Retry-After")).isNull();
    assertThat(header(r, "X-Process-Id")).isNotBlank();
    assertThat(r.body()).isEqualTo("user 1 pid " + header(r, "X-Process-Id"));
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }

  @Test
  void get_overLimit_returns429WithRetryAfterFieldsAndProblemJson() throws Exception {
    startDefault();
    for (int i = 0; i < 3; i++) {
      assertThat(get("/api/users/1").statusCode()).isEqualTo(200);
    }

    HttpResponse<String> r = get("/api/users/1");

    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(header(r, "Retry-After")).isEqualTo("60");
    assertThat(header(r, "RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=3;w=60", "GET /users/{id}"));
    assertThat(header(r, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=0;t=60", "GET /users/{id}"));
    assertThat(header(r, "Cache-Control")).isEqualTo("no-store");
    assertThat(header(r, "Content-Type")).startsWith("application/problem+json");
    assertThat(header(r, "X-Process-Id")).isNull();
    assertThat(r.body())
        .isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\",\"title\":\"Too Many Requests\","
            + "\"status\":429,\"detail\":\"Rate limit exceeded: 3/3 requests per minute\",\"limit_type\":\"minute\","
            + "\"limit\":3,\"current\":3,\"retry_after\":60,\"violated-policies\":[\"minute\"]}");
    assertThat(tracker.getSystemUsage().totalProcesses()).as("a rejected request gets no pid").isEqualTo(3);
  }

  @Test
  void get_tokenEndpoint_carriesTokenFields_andARefusedReservationIsTheTokens429() throws Exception {
    startDefault();
    String endpoint = "GET /llm/call";

    HttpResponse<String> first = get("/api/llm/call?reserve=800&in=300&out=200");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(header(first, "x-ratelimit-limit-tokens")).isEqualTo("1000");
    assertThat(header(first, "x-ratelimit-remaining-tokens")).isEqualTo("1000");
    assertThat(header(first, "x-ratelimit-reset-tokens")).isEqualTo("0s");
    clock.advanceMillis(250);
    HttpResponse<String> refused = get("/api/llm/call?reserve=600&in=1&out=1");

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(header(refused, "Retry-After")).isEqualTo("60");
    assertThat(header(refused, "x-ratelimit-limit-tokens")).isEqualTo("1000");
    assertThat(header(refused, "x-ratelimit-remaining-tokens")).isEqualTo("0");
    assertThat(header(refused, "x-ratelimit-reset-tokens")).isEqualTo("59.75s");
    assertThat(header(refused, "RateLimit-Policy")).as("unset elements from the settings' defaults")
        .isEqualTo(Pk.with("\"minute\";q=100;w=60, \"hour\";q=1000;w=3600, \"day\";q=10000;w=86400", endpoint)
            + ", " + Pk.with("\"concurrency\";q=1;qu=\"concurrent-requests\"", endpoint));
    assertThat(header(refused, "Cache-Control")).isEqualTo("no-store");
    assertThat(header(refused, "Content-Type")).startsWith("application/problem+json");
    assertThat(refused.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Token limit exceeded: 500/1000 tokens per minute, and this call reserves 600\","
        + "\"limit_type\":\"tokens-minute\",\"limit\":1000,\"current\":500,\"retry_after\":60,"
        + "\"violated-policies\":[\"tokens-minute\"]}");
    assertThat(activeProcessesEventually()).isZero();
    assertThat(limiter.getUsage(LOCAL, endpoint).get(LimitType.TOKENS_MINUTE).current()).isEqualTo(500);
    assertThat(limiter.getUsage(LOCAL, endpoint).get(LimitType.CONCURRENCY).current()).isZero();
  }

  @Test
  void get_concurrencyLimitHeld_returns429ConcurrentRequests_andTheSlotComesBack() throws Exception {
    startDefault();
    TestResources.hold = new java.util.concurrent.CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> {
      try {
        return get("/api/llm/hold");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    // (until the first request, the annotation's limits are not installed: no CONCURRENCY entry)
    while ((!limiter.getUsage(LOCAL, "GET /llm/hold").containsKey(LimitType.CONCURRENCY)
        || limiter.getUsage(LOCAL, "GET /llm/hold").get(LimitType.CONCURRENCY).current() == 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(5); // waits for the other request to be admitted, not for time to pass
    }

    HttpResponse<String> refused = get("/api/llm/hold");
    TestResources.hold.countDown();

    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(header(refused, "Retry-After")).isEqualTo("1");
    assertThat(header(refused, "RateLimit")).isEqualTo(Pk.with("\"concurrency\";r=0;t=1", "GET /llm/hold"));
    assertThat(refused.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Concurrency limit exceeded: 1/1 requests running\",\"limit_type\":\"concurrency\","
        + "\"limit\":1,\"current\":1,\"retry_after\":1,\"violated-policies\":[\"concurrency\"]}");
    assertThat(held.get(10, TimeUnit.SECONDS).body()).isEqualTo("released");
    assertThat(activeProcessesEventually()).isZero();
    assertThat(limiter.getUsage(LOCAL, "GET /llm/hold").get(LimitType.CONCURRENCY).current()).isZero();
    assertThat(get("/api/llm/hold").statusCode()).isEqualTo(200);
  }

  @Test
  void get_afterRetryAfter_isAdmittedAgain() throws Exception {
    startDefault();
    for (int i = 0; i < 3; i++) {
      get("/api/users/1");
    }
    long retryAfter = Long.parseLong(header(get("/api/users/1"), "Retry-After"));

    clock.advanceSeconds(retryAfter);

    assertThat(get("/api/users/1").statusCode()).isEqualTo(200);
  }

  @Test
  void get_differentPathParameters_shareOneRouteTemplateBucket() throws Exception {
    startDefault();

    assertThat(get("/api/users/1").statusCode()).isEqualTo(200);
    assertThat(get("/api/users/2").statusCode()).isEqualTo(200);
    assertThat(get("/api/users/3").statusCode()).isEqualTo(200);
    assertThat(get("/api/users/4").statusCode()).isEqualTo(429);

    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(3);
    assertThat(limiter.getUsage(LOCAL, "GET /users/1").get(LimitType.MINUTE).current()).isZero();
  }

  @Test
  void get_subResourceLocator_keyedByFullMatchedTemplate() throws Exception {
    startDefault();

    assertThat(get("/api/users/7/teams/red").statusCode()).isEqualTo(200);
    assertThat(get("/api/users/8/teams/blue").statusCode()).isEqualTo(200);

    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}/teams/{team}").get(LimitType.MINUTE).current())
        .isEqualTo(2);
  }

  @Test
  void get_rootResourceReachedThroughLocator_keyedByFullTemplateNotItsOwn() throws Exception {
    startDefault();

    assertThat(get("/api/orgs/acme/users/5").statusCode()).isEqualTo(200);

    assertThat(limiter.getUsage(LOCAL, "GET /orgs/{org}/users/{id}").get(LimitType.MINUTE).current()).isEqualTo(1);
    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isZero();
  }

  @Test
  void get_unmatchedPaths_countAgainstDefaultEndpoint() throws Exception {
    startDefault();

    HttpResponse<String> first = get("/api/nothing/here");
    get("/api/elsewhere");
    get("/api/users/not-a-number");
    HttpResponse<String> fourth = get("/api/still/nothing");

    assertThat(first.statusCode()).isEqualTo(404);
    assertThat(header(first, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "default"));
    assertThat(fourth.statusCode()).isEqualTo(429);
    assertThat(header(fourth, "Retry-After")).isEqualTo("60");
    assertThat(mediaType(fourth)).isEqualTo("application/problem+json");
    assertThat(fourth.body()).contains("\"limit_type\":\"minute\"");
    assertThat(limiter.getUsage(LOCAL, "default").get(LimitType.MINUTE).current()).isEqualTo(3);
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void get_classRateLimited_classLimitApplies() throws Exception {
    startDefault();

    assertThat(get("/api/annotated").statusCode()).isEqualTo(200);
    HttpResponse<String> second = get("/api/annotated");
    HttpResponse<String> third = get("/api/annotated");

    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(header(second, "RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=2;w=60, \"hour\";q=1000;w=3600, "
        + "\"day\";q=10000;w=86400", "GET /annotated"));
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(limiter.getConfig(LOCAL, "GET /annotated").requestsPerMinute()).isEqualTo(2);
  }

  @Test
  void get_methodRateLimited_overridesClassLimit() throws Exception {
    startDefault();

    assertThat(get("/api/annotated/method").statusCode()).isEqualTo(200);
    HttpResponse<String> second = get("/api/annotated/method");

    assertThat(second.statusCode()).isEqualTo(429);
    assertThat(second.body()).contains("\"limit\":1");
  }

  @Test
  void post_quotaExceededInResource_returns429WithViolationCode() throws Exception {
    startDefault();

    HttpResponse<String> r = send("POST", "/api/annotated/llm?calls=2");

    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(header(r, "Content-Type")).startsWith("application/problem+json");
    assertThat(header(r, "Cache-Control")).isEqualTo("no-store");
    assertThat(header(r, "X-Process-Id")).isNotBlank();
    assertThat(r.body()).contains("\"type\":\"urn:controltower:problem:quota:max_llm_calls_exceeded\"",
        "\"status\":429", "\"reason\":\"max_llm_calls_exceeded\"", "\"limit\":1", "\"current\":2");
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    assertThat(tracker.getSystemUsage().systemLlmCalls()).isEqualTo(2);
  }

  @Test
  void post_applicationMapperOfHigherPriority_replacesQuotaAnswer() throws Exception {
    start(new TestApplication(Set.of(TestResources.CustomQuotaMapper.class),
        Set.of(new QuotaInterceptor(limiter, tracker)), Map.of()));

    HttpResponse<String> r = send("POST", "/api/annotated/llm?calls=2");

    assertThat(r.statusCode()).isEqualTo(402);
    assertThat(r.body()).isEqualTo("pay for max_llm_calls_exceeded");
    assertThat(header(r, "X-Process-Id")).isNotBlank();
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void post_withinQuota_returns200() throws Exception {
    startDefault();

    HttpResponse<String> r = send("POST", "/api/annotated/llm?calls=1");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("llm 1");
  }

  @Test
  void post_methodQuota_overridesClassQuota() throws Exception {
    startDefault();

    HttpResponse<String> within = send("POST", "/api/annotated/tools?calls=3");
    HttpResponse<String> over = send("POST", "/api/annotated/tools?calls=4");

    assertThat(within.statusCode()).isEqualTo(200);
    // The process is allocated with the merged quota: class maxLlmCalls 1, method maxToolCalls 3.
    assertThat(within.body()).isEqualTo("tools 3 of 0 left; quota 1 llm, 3 tools");
    assertThat(over.statusCode()).isEqualTo(429);
    assertThat(over.body()).contains("max_tool_calls_exceeded");
  }

  @Test
  void get_authenticatedPrincipal_countsUnderUserKey() throws Exception {
    startDefault();

    get("/api/users/1", "X-Test-User", "alice");
    get("/api/users/1", "X-Test-User", "alice");
    get("/api/users/1");

    assertThat(limiter.getUsage("user:alice", "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(2);
    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void get_refusedByAuthenticationFilter_countedAndLimitedByTemplate() throws Exception {
    startDefault();

    HttpResponse<String> first = get("/api/users/1", "X-Test-User", "intruder");
    get("/api/users/2", "X-Test-User", "intruder");
    get("/api/users/3", "X-Test-User", "intruder");
    HttpResponse<String> fourth = get("/api/users/4", "X-Test-User", "intruder");

    assertThat(first.statusCode()).isEqualTo(401);
    assertThat(first.body()).isEqualTo("who are you");
    assertThat(header(first, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "GET /users/{id}"));
    assertThat(fourth.statusCode()).isEqualTo(429);
    assertThat(header(fourth, "Retry-After")).isEqualTo("60");
    assertThat(fourth.body()).contains("\"limit_type\":\"minute\"");
    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(3);
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void get_invalidAnnotationInterceptorOnly_answers500WithoutCountingOrTracking() throws Exception {
    start(new TestApplication(Set.of(TestResources.BadAnnotation.class), Set.of(new QuotaInterceptor(limiter, tracker)),
        Map.of()));

    HttpResponse<String> r = get("/api/bad");

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).doesNotContain("not reached");
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
    assertThat(limiter.getUsage(LOCAL, "GET /bad").get(LimitType.MINUTE).current()).isZero();
  }

  @Test
  void invalidAnnotationWithFeature_deploymentFails() {
    Throwable failure = catchThrowable(() -> start(new TestApplication(
        Set.of(TestResources.BadAnnotation.class), Set.of(new QuotaFeature(limiter, tracker)), Map.of())));

    // Jersey's servlet fails its init (Jetty reports a ServletException), RESTEasy's deployment throws.
    assertThat(failure).hasStackTraceContaining("@RateLimited.requestsPerMinute on "
        + TestResources.BadAnnotation.class.getName() + ".get must be >= 0, or -1 for unset, but was -2");
  }

  @Test
  void get_resourceThrowsUnmapped_pidReleased() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/failing/unmapped");

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(activeProcessesEventually()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void get_exceptionMapperThrows_pidReleasedAtRequestEnd() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/failing/mapper-throws");

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(activeProcessesEventually()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void get_asyncResumed_pidLiveDuringWorkAndReleasedAfter() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/failing/async");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("async 1");
    assertThat(header(r, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "GET /failing/async"));
    assertThat(header(r, "X-Process-Id")).isNotBlank();
    assertThat(activeProcessesEventually()).isZero();
    assertThat(tracker.getSystemUsage().systemToolCalls()).isEqualTo(1);
  }

  @Test
  void get_asyncResumedAfterDispatchReturned_pidStillLiveThenReleased() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/failing/async-late");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("late 1");
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void get_applicationResponseFilterThrows_pidReleasedAtRequestEnd() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/users/1", "X-Fail-Response", "yes");

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(activeProcessesEventually()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void get_asyncResumedWithException_pidReleased() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/failing/async-error");

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void get_asyncQuotaExceeded_returns429WithViolationCode() throws Exception {
    startDefault();

    HttpResponse<String> r = get("/api/failing/async-quota");

    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.body()).contains("\"reason\":\"max_llm_calls_exceeded\"");
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void manyRequests_everyOutcome_noPidOutlivesItsRequest() throws Exception {
    limiter.setDefaultConfig(RateLimitConfig.builder().requestsPerMinute(0).requestsPerHour(0).requestsPerDay(0).build());
    startDefault();
    String[][] requests = {
        {"/api/users/1"}, {"/api/failing/unmapped"}, {"/api/failing/mapper-throws"}, {"/api/failing/quota"},
        {"/api/failing/async"}, {"/api/failing/async-quota"}, {"/api/failing/async-error"},
        {"/api/users/7/teams/red"}, {"/api/nowhere"}, {"/api/users/1", "X-Fail-Response", "yes"},
    };
    int rounds = 15;

    for (int round = 0; round < rounds; round++) {
      for (String[] r : requests) {
        if (r[0].equals("/api/failing/async-error")) {
          // Jersey 4.0.2 on Jetty 12.1.14 may answer the NEXT request on a connection with a stray 500
          // after an async resource resumed with an unmapped exception (seen without this library too):
          // that request then never reaches the application. Give it a connection of its own.
          HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(r[0])).build(), HttpResponse.BodyHandlers.discarding());
        } else {
          get(r[0], Arrays.copyOfRange(r, 1, r.length));
        }
      }
    }

    assertThat(activeProcessesEventually()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo((long) rounds * requests.length);
  }

  @Test
  void concurrentRequests_oneTemplate_admitExactlyTheLimitAndLeakNoPid() throws Exception {
    limiter.setDefaultConfig(RateLimitConfig.builder().requestsPerMinute(50).requestsPerHour(0).requestsPerDay(0).build());
    startDefault();
    List<CompletableFuture<HttpResponse<Void>>> inFlight = new ArrayList<>();

    for (int i = 0; i < 100; i++) {
      inFlight.add(http.sendAsync(HttpRequest.newBuilder(uri("/api/users/" + i)).build(),
          HttpResponse.BodyHandlers.discarding()));
    }
    Map<Integer, Long> byStatus = new TreeMap<>();
    for (var f : inFlight) {
      byStatus.merge(f.get(30, TimeUnit.SECONDS).statusCode(), 1L, Long::sum);
    }

    assertThat(byStatus).isEqualTo(Map.of(200, 50L, 429, 50L));
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(50);
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void options_corsPreflight_notCounted() throws Exception {
    startDefault();

    send("OPTIONS", "/api/users/1", "Origin", "https://example.com", "Access-Control-Request-Method", "GET");

    assertThat(limiter.getUsage(LOCAL, "OPTIONS /users/{id}").get(LimitType.MINUTE).current()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
  }

  @Test
  void get_interceptorRegisteredTwice_countedOnce() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker), new QuotaFeature(limiter, tracker)));

    HttpResponse<String> r = get("/api/users/1");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(1);
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void get_featureRegistration_limits() throws Exception {
    start(TestApplication.with(new QuotaFeature(limiter, tracker)));

    for (int i = 0; i < 3; i++) {
      assertThat(get("/api/users/" + i).statusCode()).isEqualTo(200);
    }
    assertThat(get("/api/users/9").statusCode()).isEqualTo(429);
  }

  @Test
  void get_classRegistrationWithProperties_configuresFromProperties() throws Exception {
    start(new TestApplication(Set.of(QuotaInterceptor.class), Set.of(),
        Map.of("controltower.requests-per-minute", "1", "controltower.requests-per-hour", "0",
            "controltower.requests-per-day", "0")));

    HttpResponse<String> first = get("/api/users/1");
    HttpResponse<String> second = get("/api/users/1");

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(header(first, "RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=1;w=60", "GET /users/{id}"));
    assertThat(second.statusCode()).isEqualTo(429);
  }

  @Test
  void get_trustedRequestIdAndApiKeyConfigured_pidIsRequestIdAndUserIsHashedKey() throws Exception {
    start(new TestApplication(Set.of(QuotaInterceptor.class), Set.of(), Map.of(
        "controltower.trust-request-id", "true", "controltower.user-header", "X-API-Key",
        "controltower.legacy-headers", "true")));

    HttpResponse<String> r = get("/api/users/1", "X-Request-Id", "req-42", "X-API-Key", "secret-key");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "X-Process-Id")).isEqualTo("req-42");
    assertThat(header(r, "X-RateLimit-Limit")).isEqualTo("60");
    assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("59");
    assertThat(r.headers().map().toString()).doesNotContain("secret-key");
    String key = new ClientIdentityResolver(HttpSettings.fromMap(Map.of("user-header", "X-API-Key")))
        .resolve(null, name -> name.equalsIgnoreCase("X-API-Key") ? List.of("secret-key") : List.of(),
            "127.0.0.1");
    assertThat(key).startsWith("key:").doesNotContain("secret");
    RateLimiter published =
        (RateLimiter) context.getServletContext().getAttribute(HttpAttributes.RATE_LIMITER);
    assertThat(published.getUsage(key, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void get_excludedPath_neitherLimitedNorTracked() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker,
        HttpSettings.fromMap(Map.of("exclude-paths", "/users/7/teams/*, /nowhere")))));

    HttpResponse<String> excluded = get("/api/users/7/teams/red");
    HttpResponse<String> excludedUnmatched = get("/api/nowhere");
    HttpResponse<String> counted = get("/api/users/7");

    assertThat(excluded.statusCode()).isEqualTo(200);
    assertThat(header(excluded, "RateLimit")).isNull();
    assertThat(header(excluded, "X-Process-Id")).isNull();
    assertThat(excludedUnmatched.statusCode()).isEqualTo(404);
    assertThat(header(excludedUnmatched, "RateLimit")).isNull();
    assertThat(header(counted, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "GET /users/{id}"));
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void get_encodedSemicolonOrDotsReadingAsExcluded_isCountedAgainstTheMatchedTemplate() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker,
        HttpSettings.fromMap(Map.of("exclude-paths", "/teams/*")))));
    limiter.setDefaultConfig(RateLimitConfig.builder().requestsPerMinute(100).build());

    // The runtime matches GET /users/{id}/teams/{team} with id "..;"; read again, "..;" would climb to /teams/red.
    List<String> uncounted = new ArrayList<>();
    for (String path : List.of("/api/users/..%3B/teams/red", "/api/users/..%253B/teams/red",
        "/api/users/.%3B/teams/red", "/api/users/%2E%2E%3B/teams/red", "/api/users/%2E%2E/teams/red")) {
      HttpResponse<String> r = get(path);
      if (r.statusCode() == 200 && header(r, "RateLimit") == null) {
        uncounted.add(path);
      }
    }

    assertThat(uncounted).isEmpty();
    assertThat(header(get("/api/teams/red"), "RateLimit")).isNull(); // not a resource, and excluded
  }

  @Test
  void get_twoApiKeyValues_is400ProblemAndNeverCounted() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker,
        HttpSettings.fromMap(Map.of("user-header", "X-API-Key")))));

    HttpResponse<String> commaList = get("/api/users/1", "X-API-Key", "sk-1, sk-2");
    HttpResponse<String> twoLines = get("/api/users/1", "X-API-Key", "sk-1", "X-API-Key", "sk-2");
    HttpResponse<String> unmatched = get("/api/nothing", "X-API-Key", "sk-1,sk-2");

    for (HttpResponse<String> r : List.of(commaList, twoLines, unmatched)) {
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(header(r, "Content-Type")).isEqualTo("application/problem+json");
      assertThat(header(r, "RateLimit")).isNull();
      assertThat(r.body()).startsWith("{\"type\":\"urn:controltower:problem:bad-request:ambiguous-api-key\"")
          .doesNotContain("sk-");
    }
    assertThat(limiter.trackedKeys()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
  }

  @Test
  void get_rateLimitHeadersNoneAndNoPid_429StillHasRetryAfterAndProblemBody() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker,
        HttpSettings.fromMap(Map.of("rate-limit-headers", "none", "process-id-header", "none")))));

    HttpResponse<String> admitted = get("/api/users/1");
    get("/api/users/2");
    get("/api/users/3");
    HttpResponse<String> limited = get("/api/users/4");

    assertThat(admitted.statusCode()).isEqualTo(200);
    assertThat(admitted.headers().map().keySet()).noneMatch(n -> n.toLowerCase().contains("ratelimit")
        || n.equalsIgnoreCase("X-Process-Id"));
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(header(limited, "Retry-After")).isEqualTo("60");
    assertThat(header(limited, "RateLimit")).isNull();
    assertThat(header(limited, "Content-Type")).isEqualTo("application/problem+json");
    assertThat(limited.body()).contains("\"retry_after\":60");
  }

  @Test
  void get_rateLimitHeadersLegacyAndRenamedPid_sendsThoseFields() throws Exception {
    start(TestApplication.with(new QuotaInterceptor(limiter, tracker,
        HttpSettings.fromMap(Map.of("rate-limit-headers", "legacy", "process-id-header", "X-Run-Id")))));

    HttpResponse<String> r = get("/api/users/1");

    assertThat(header(r, "X-RateLimit-Limit")).isEqualTo("3");
    assertThat(header(r, "X-RateLimit-Remaining")).isEqualTo("2");
    assertThat(header(r, "RateLimit-Policy")).isNull();
    assertThat(header(r, "X-Process-Id")).isNull();
    assertThat(r.body()).endsWith("pid " + header(r, "X-Run-Id"));
  }

  @Test
  void get_classRegistrationWithBadProperty_failsWithoutCounting() throws Exception {
    start(new TestApplication(Set.of(QuotaInterceptor.class), Set.of(),
        Map.of("controltower.requests-per-minute", "lots")));

    HttpResponse<String> r = get("/api/users/1");

    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(r.body()).doesNotContain("lots");
  }

  @Test
  void get_featureClassRegistrationWithProperties_configuresFromProperties() throws Exception {
    start(new TestApplication(Set.of(QuotaFeature.class), Set.of(),
        Map.of("controltower.requests-per-minute", "1", "controltower.requests-per-hour", "0",
            "controltower.requests-per-day", "0")));

    HttpResponse<String> first = get("/api/users/1");
    HttpResponse<String> second = get("/api/users/2");

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(header(first, "RateLimit-Policy")).isEqualTo(Pk.with("\"minute\";q=1;w=60", "GET /users/{id}"));
    assertThat(second.statusCode()).isEqualTo(429);
  }

  @Test
  void featureRegistrationWithBadProperty_deploymentFails() {
    Throwable failure = catchThrowable(() -> start(new TestApplication(
        Set.of(QuotaFeature.class), Set.of(), Map.of("controltower.requests-per-minute", "lots"))));

    // Jersey's servlet fails its init (Jetty reports a ServletException), RESTEasy's deployment throws.
    assertThat(failure).hasStackTraceContaining(
        "bad configuration property controltower.requests-per-minute must be a whole number >= 0 but was 'lots'");
  }

  @Test
  void get_classRegistrationWithSharedInstances_usesServletContextAttributes() throws Exception {
    Application app = new TestApplication(Set.of(QuotaInterceptor.class), Set.of(), Map.of());
    server = null;
    startWithAttributes(app);

    get("/api/users/1");

    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(1);
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  private void startWithAttributes(Application app) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    context = new ServletContextHandler("/");
    context.setAttribute(HttpAttributes.RATE_LIMITER, limiter);
    context.setAttribute(HttpAttributes.RESOURCE_TRACKER, tracker);
    runtime().mount(context, "/api", app);
    server.setHandler(context);
    server.start();
  }

  /**
   * A webapp with a legacy servlet behind {@code RateLimitFilter} at {@code /users/*} and the JAX-RS
   * application at {@code /api/*}: the filter publishes the limiter and tracker it finds in the servlet
   * context, the class-registered interceptor picks them up, and the servlet pattern
   * {@code GET /users/{id}} names the same endpoint as the JAX-RS route template.
   */
  private void startSharedWebapp() throws Exception {
    startSharedWebapp("/users/*");
  }

  private void startSharedWebapp(String filterMapping) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    context = new ServletContextHandler("/");
    context.setAttribute(HttpAttributes.RATE_LIMITER, limiter);
    context.setAttribute(HttpAttributes.RESOURCE_TRACKER, tracker);
    FilterHolder filter =
        new FilterHolder(RateLimitFilter.class);
    filter.setInitParameter("endpoint-patterns", "GET /users/{id}");
    filter.setAsyncSupported(true);
    context.addFilter(filter, filterMapping, EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(TestResources.LegacyUsersServlet.class, "/users/*");
    runtime().mount(context, "/api", new TestApplication(Set.of(QuotaInterceptor.class), Set.of(), Map.of()));
    server.setHandler(context);
    server.start();
  }

  @Test
  void sharedWebapp_servletAndResource_drawFromOneUserBudget() throws Exception {
    startSharedWebapp();

    HttpResponse<String> servlet1 = get("/users/1");
    HttpResponse<String> resource = get("/api/users/2");
    HttpResponse<String> servlet2 = get("/users/3");
    HttpResponse<String> resourceRejected = get("/api/users/4");
    HttpResponse<String> servletRejected = get("/users/5");

    assertThat(servlet1.statusCode()).isEqualTo(200);
    assertThat(servlet1.body()).startsWith("legacy /1 pid ");
    assertThat(resource.statusCode()).isEqualTo(200);
    assertThat(header(resource, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=1;t=60", "GET /users/{id}"));
    assertThat(servlet2.statusCode()).isEqualTo(200);
    assertThat(header(servlet2, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=0;t=60", "GET /users/{id}"));
    assertThat(resourceRejected.statusCode()).isEqualTo(429);
    assertThat(servletRejected.statusCode()).isEqualTo(429);
    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(3);
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(3);
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void sharedWebapp_rejections_identicalOnTheWire() throws Exception {
    startSharedWebapp();
    for (int i = 0; i < 3; i++) {
      get("/users/" + i);
    }

    HttpResponse<String> fromServlet = get("/users/9");
    HttpResponse<String> fromResource = get("/api/users/9");

    assertThat(fromResource.statusCode()).isEqualTo(fromServlet.statusCode()).isEqualTo(429);
    assertThat(fromResource.body()).isEqualTo(fromServlet.body());
    for (String name : new String[] {"RateLimit-Policy", "RateLimit", "Retry-After", "Cache-Control"}) {
      assertThat(header(fromResource, name)).as(name).isEqualTo(header(fromServlet, name)).isNotNull();
    }
    assertThat(mediaType(fromResource)).isEqualTo(mediaType(fromServlet)).isEqualTo("application/problem+json");
    assertThat(header(fromResource, "Content-Type").replace(" ", ""))
        .isEqualToIgnoringCase(header(fromServlet, "Content-Type").replace(" ", ""));
  }

  @Test
  void sharedWebapp_admitted_identicalFieldsOnTheWire() throws Exception {
    startSharedWebapp();

    HttpResponse<String> fromServlet = get("/users/1");
    clock.advanceSeconds(120); // a fresh window at the same bucket phase: same counts, same t
    HttpResponse<String> fromResource = get("/api/users/1");

    for (String name : new String[] {"RateLimit-Policy", "RateLimit"}) {
      assertThat(header(fromResource, name)).as(name).isEqualTo(header(fromServlet, name)).isNotNull();
    }
    assertThat(header(fromResource, "X-Process-Id")).isNotBlank();
    assertThat(header(fromServlet, "X-Process-Id")).isNotBlank();
  }

  @Test
  void sharedWebapp_quotaViolations_identicalOnTheWire() throws Exception {
    startSharedWebapp();

    HttpResponse<String> fromServlet = get("/users/1?llm=11");
    HttpResponse<String> fromResource = get("/api/users/1?llm=11");

    assertThat(fromResource.statusCode()).isEqualTo(fromServlet.statusCode()).isEqualTo(429);
    assertThat(fromResource.body()).isEqualTo(fromServlet.body()).contains("\"reason\":\"max_llm_calls_exceeded\"");
    for (String name : new String[] {"RateLimit-Policy", "Cache-Control", "Content-Type"}) {
      assertThat(header(fromResource, name).replace(" ", "")).as(name)
          .isEqualToIgnoringCase(header(fromServlet, name).replace(" ", ""));
    }
    assertThat(header(fromServlet, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "GET /users/{id}"));
    assertThat(header(fromResource, "RateLimit")).isEqualTo(Pk.with("\"minute\";r=1;t=60", "GET /users/{id}"));
    assertThat(header(fromResource, "X-Process-Id")).isNotBlank();
    assertThat(header(fromServlet, "X-Process-Id")).isNotBlank();
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void servletFilterInFront_requestCountedOnceAndProcessShared() throws Exception {
    startSharedWebapp("/*");

    HttpResponse<String> r = get("/api/users/1");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("user 1 pid " + header(r, "X-Process-Id"));
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    assertThat(limiter.getUsage(LOCAL, "default").get(LimitType.MINUTE).current())
        .as("counted by the servlet filter, under its endpoint name").isEqualTo(1);
    assertThat(limiter.getUsage(LOCAL, "GET /users/{id}").get(LimitType.MINUTE).current()).isZero();
    assertThat(activeProcessesEventually()).isZero();
  }

  @Test
  void servletFilterInFront_quotaAnnotationStillApplies() throws Exception {
    startSharedWebapp("/*");

    HttpResponse<String> r = send("POST", "/api/annotated/llm?calls=2");

    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.body()).contains("\"reason\":\"max_llm_calls_exceeded\"", "\"limit\":1", "\"current\":2");
    assertThat(header(r, "X-Process-Id")).isNotBlank();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    assertThat(activeProcessesEventually()).isZero();
  }

  static String mediaType(HttpResponse<?> r) {
    String type = header(r, "Content-Type");
    return type == null ? null : type.split(";")[0].strip();
  }
}
