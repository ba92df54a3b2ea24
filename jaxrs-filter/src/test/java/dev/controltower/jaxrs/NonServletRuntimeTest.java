package dev.controltower.jaxrs;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.controltower.http.ProcessContext;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import org.glassfish.jersey.jdkhttp.JdkHttpServerFactory;
import org.glassfish.jersey.server.ResourceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The interceptor outside any servlet container (Jersey on the JDK's HTTP server): no client address
 * and no request-end listener, yet limits, headers, the process context and release all work.
 */
class NonServletRuntimeTest {

  /** Reaches the process context the way a Jersey resource can: {@code @Context ContainerRequestContext}. */
  @Path("/items")
  public static class Items {
    @GET
    @Path("{id}")
    public String get(@PathParam("id") String id, @Context ContainerRequestContext request) {
      ProcessContext process = QuotaInterceptor.processContext(request);
      process.recordToolCall();
      return "item " + id + " tools " + process.usage().orElseThrow().toolCalls();
    }
  }

  private final FakeClock clock = FakeClock.atSeconds(100);
  private RateLimiter limiter;
  private ResourceTracker tracker;
  private HttpServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    limiter = RateLimiter.builder().clock(clock)
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(2).requestsPerHour(0).requestsPerDay(0).build())
        .build();
    tracker = ResourceTracker.builder().clock(clock).build();
    ResourceConfig app = new ResourceConfig(Items.class, TestResources.HeaderAuthentication.class)
        .register(new QuotaFeature(limiter, tracker));
    server = JdkHttpServerFactory.createHttpServer(URI.create("http://127.0.0.1:0/"), app);
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void get_withoutServletContainer_limitsByTemplateUnderAnonymousKey() throws Exception {
    HttpResponse<String> first = get("/items/1");
    get("/items/2");
    HttpResponse<String> third = get("/items/3");

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).isEqualTo("item 1 tools 1");
    assertThat(first.headers().firstValue("RateLimit")).hasValue("\"minute\";r=1;t=60");
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.headers().firstValue("Retry-After")).hasValue("60");
    assertThat(limiter.getUsage("anonymous", "GET /items/{id}").get(LimitType.MINUTE).current()).isEqualTo(2);
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    assertThat(tracker.getSystemUsage().systemToolCalls()).isEqualTo(2);
  }

  @Test
  void get_withoutServletContainer_principalStillIdentifies() throws Exception {
    get("/items/1", "X-Test-User", "alice");

    assertThat(limiter.getUsage("user:alice", "GET /items/{id}").get(LimitType.MINUTE).current()).isEqualTo(1);
  }
}
