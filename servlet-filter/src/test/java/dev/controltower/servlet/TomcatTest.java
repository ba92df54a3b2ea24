package dev.controltower.servlet;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.http.HttpAttributes;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.testapp.EchoServlet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.ErrorPage;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same filter on embedded Tomcat 11: the behaviour does not depend on the container. */
class TomcatTest {
  private static final String POLICY =
      Pk.with("\"minute\";q=3;w=60, \"hour\";q=100;w=3600, \"day\";q=1000;w=86400", "/api/x");

  @TempDir
  Path baseDir;

  private final FakeClock clock = FakeClock.atMillis(100_000);
  private final RateLimiter limiter = RateLimiter.builder().clock(clock)
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(100).requestsPerDay(1000).build())
      .build();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
  private Tomcat tomcat;
  private Context context;
  private int port;

  @BeforeEach
  void start() throws Exception {
    tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    tomcat.setPort(0);
    Path docBase = Files.createDirectories(baseDir.resolve("webapp"));
    context = tomcat.addContext("", docBase.toString());
    // Leak detection needs --add-opens and only warns about it; these tests stop Tomcat cleanly anyway.
    ((StandardContext) context).setClearReferencesRmiTargets(false);
    ((StandardContext) context).setClearReferencesThreadLocals(false);
    Wrapper echo = Tomcat.addServlet(context, "echo", new EchoServlet());
    echo.setAsyncSupported(true);
    context.addServletMapping("/*", "echo");
    ErrorPage errorPage = new ErrorPage();
    errorPage.setErrorCode(500);
    errorPage.setLocation("/error-page");
    context.addErrorPage(errorPage);
    for (String name : new String[] {"rate-limit", "rate-limit-again"}) {
      FilterDef def = new FilterDef();
      def.setFilterName(name);
      def.setFilter(new RateLimitFilter(limiter, tracker));
      def.setAsyncSupported("true");
      def.addInitParameter("endpoint-patterns", "/api/x, /api/users/*");
      def.addInitParameter("max-llm-calls", "2");
      context.addFilterDef(def);
      FilterMap map = new FilterMap();
      map.setFilterName(name);
      map.addURLPattern("/*");
      for (String d : new String[] {"REQUEST", "FORWARD", "INCLUDE", "ERROR", "ASYNC"}) {
        map.setDispatcher(d);
      }
      context.addFilterMap(map);
    }
    tomcat.getConnector(); // creates the default HTTP connector
    tomcat.start();
    port = tomcat.getConnector().getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    tomcat.stop();
    tomcat.destroy();
  }

  private long counted(String endpoint) {
    return limiter.getUsage("ip:127.0.0.1", endpoint).get(LimitType.MINUTE).current();
  }

  private void awaitNoActiveProcess() throws InterruptedException {
    ActiveProcesses.awaitNone(tracker, Duration.ofSeconds(10));
  }

  @Test
  void get_overLimit_is429WithExactHeadersAndProblemBody() throws Exception {
    RawHttp.Response first = RawHttp.get(port, "/api/x");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.header("RateLimit-Policy")).isEqualTo(POLICY);
    assertThat(first.header("RateLimit")).isEqualTo(Pk.with("\"minute\";r=2;t=60", "/api/x"));
    RawHttp.get(port, "/api/x");
    RawHttp.get(port, "/api/x");

    RawHttp.Response r = RawHttp.get(port, "/api/x");

    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("Retry-After")).isEqualTo("60");
    assertThat(r.header("RateLimit-Policy")).isEqualTo(POLICY);
    assertThat(r.header("RateLimit")).isEqualTo(Pk.with("\"minute\";r=0;t=60", "/api/x"));
    assertThat(r.header("Cache-Control")).isEqualTo("no-store");
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Rate limit exceeded: 3/3 requests per minute\",\"limit_type\":\"minute\","
        + "\"limit\":3,\"current\":3,\"retry_after\":60,\"violated-policies\":[\"minute\"]}");

    clock.advanceMillis(62_000);
    assertThat(RawHttp.get(port, "/api/x").status()).isEqualTo(200);
  }

  @Test
  void pathVariants_countAgainstOneBucket() throws Exception {
    limiter.setUserLimits("ip:127.0.0.1", RateLimitConfig.builder().requestsPerMinute(100).build());
    int served = 0;
    for (String target : new String[] {"/api/x/", "//api/x", "/api/./x", "/api/y/../x", "/api/x;jsessionid=AB12",
        "/api/%78"}) {
      RawHttp.Response r = RawHttp.get(port, target);
      if (r.status() != 400) {
        assertThat(r.body()).as(target).endsWith("endpoint=/api/x");
        served++;
      }
    }
    assertThat(served).isGreaterThanOrEqualTo(4);
    assertThat(counted("/api/x")).isEqualTo(served);
    assertThat(limiter.trackedKeys()).isEqualTo(1);
  }

  @Test
  void dispatches_forwardIncludeErrorAsync_areCountedOnce() throws Exception {
    assertThat(RawHttp.get(port, "/a?forward=/b").body()).startsWith("FORWARD");
    assertThat(RawHttp.get(port, "/a?include=/b").body()).isEqualTo("included");
    limiter.resetUser("ip:127.0.0.1");
    assertThat(RawHttp.get(port, "/a?error=500").status()).isEqualTo(500);
    assertThat(RawHttp.get(port, "/a?async=dispatch").body()).startsWith("ASYNC");
    assertThat(counted("default")).isEqualTo(2);
    awaitNoActiveProcess();
  }

  @Test
  void corsPreflight_isNotCounted() throws Exception {
    RawHttp.send(port, "OPTIONS", "/api/x", "Origin: https://app.example", "Access-Control-Request-Method: PUT");

    assertThat(counted("/api/x")).isZero();
  }

  @Test
  void quotaExceeded_is429WithCode_andEveryPidIsReleased() throws Exception {
    RawHttp.Response r = RawHttp.get(port, "/a?llm=3");
    RawHttp.get(port, "/a?throw=runtime");
    RawHttp.get(port, "/a?async=timeout&timeout=250");

    assertThat(r.status()).isEqualTo(429);
    assertThat(r.body()).contains("\"reason\":\"max_llm_calls_exceeded\"");
    awaitNoActiveProcess();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(3);
  }

  @Test
  void servletContext_publishesTheSharedInstances() {
    assertThat(context.getServletContext().getAttribute(HttpAttributes.RATE_LIMITER)).isSameAs(limiter);
    assertThat(context.getServletContext().getAttribute(HttpAttributes.RESOURCE_TRACKER)).isSameAs(tracker);
  }
}
