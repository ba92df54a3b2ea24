package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.jaxrs.ProcessReleaseListener;
import dev.controltower.jaxrs.QuotaFeature;
import dev.controltower.http.HttpAttributes;
import dev.controltower.resources.LimitType;
import dev.controltower.servlet.RateLimitFilter;
import dev.controltower.spi.ControlTowerListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.glassfish.jersey.server.ApplicationHandler;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.servlet.ServletContainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Both adapters configured only by their parameters ({@code store=redis}, {@code redis-uri}, ...), over
 * real HTTP, on a redis-server of this class's own: two servers built from the same parameters share
 * one limit, the counts live in Redis, and bad values fail startup naming the parameter and value.
 */
class RedisAdapterConfigurationTest {
  private static RedisServer redis;
  private final List<Server> servers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @AfterEach
  void stopServers() throws Exception {
    for (Server s : servers) {
      s.stop();
    }
  }

  private static final class Ok extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
      response.setStatus(200);
    }
  }

  /** A JAX-RS resource. */
  @Path("/hello")
  public static final class Hello {
    /** For Jersey. */
    public Hello() {}

    /** 200. */
    @GET
    public String hello() {
      return "hello";
    }
  }

  private int start(ServletContextHandler context) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(context);
    servers.add(server);
    server.start();
    return connector.getLocalPort();
  }

  /** A root context, with {@code listener} in its listener attribute unless it is null. */
  private static ServletContextHandler context(ControlTowerListener listener) {
    ServletContextHandler context = new ServletContextHandler("/");
    if (listener != null) {
      context.setAttribute(HttpAttributes.LISTENER, listener);
    }
    return context;
  }

  private int servletServer(Map<String, String> params) throws Exception {
    return servletServer(params, null);
  }

  private int servletServer(Map<String, String> params, ControlTowerListener listener) throws Exception {
    ServletContextHandler context = context(listener);
    FilterHolder filter = new FilterHolder(RateLimitFilter.class);
    filter.setInitParameters(params);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new Ok()), "/*");
    return start(context);
  }

  private int jaxrsServer(Map<String, Object> properties) throws Exception {
    return jaxrsServer(properties, null);
  }

  private int jaxrsServer(Map<String, Object> properties, ControlTowerListener listener) throws Exception {
    ServletContextHandler context = context(listener);
    ResourceConfig app = new ResourceConfig(Hello.class).register(QuotaFeature.class).addProperties(properties);
    context.addEventListener(new ProcessReleaseListener()); // closes the store it built when the context stops
    context.addServlet(new ServletHolder(new ServletContainer(app)), "/*");
    return start(context);
  }

  private int get(int port, String path, String user) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("X-User", user).build();
    return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static Map<String, String> redisParams(int perMinute) {
    return Map.of("store", "redis", "redis-uri", redis.uri(), "store-timeout", "2s", "fail-mode", "closed",
        "requests-per-minute", Integer.toString(perMinute), "requests-per-hour", "0", "requests-per-day", "0",
        "identity-order", "user-header", "user-header", "X-User");
  }

  private long pairKeys() {
    Object keys = redis.command("KEYS", "*p:{*");
    return ((List<?>) keys).size();
  }

  @Test
  void servletFilter_storeRedisOnTwoServers_sharesOneLimit() throws Exception {
    int a = servletServer(redisParams(5));
    int b = servletServer(redisParams(5));
    String user = UUID.randomUUID().toString();
    long keysBefore = pairKeys();

    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      statuses.add(get(i % 2 == 0 ? a : b, "/x", user));
    }

    assertThat(statuses.subList(0, 5)).containsOnly(200);
    assertThat(statuses.subList(5, 12)).containsOnly(429);
    assertThat(pairKeys()).isEqualTo(keysBefore + 1);
  }

  /** Counts decisions and the store's script latencies. */
  private static final class Seen implements ControlTowerListener {
    final AtomicLong admitted = new AtomicLong();
    final List<String> latencies = new CopyOnWriteArrayList<>();

    @Override
    public void onAdmitted(String endpoint, LimitType window) {
      admitted.incrementAndGet();
    }

    @Override
    public void onStoreLatency(String operation, long durationNanos) {
      latencies.add(operation);
    }
  }

  /**
   * A store built from configuration (store=redis) reports its own events to the context's listener,
   * as a store built in code does: with no code at all, the metrics still see the store.
   */
  @Test
  void servletFilterAndJaxrsFeature_storeRedisFromConfiguration_reportStoreEventsToTheContextListener()
      throws Exception {
    Seen filterSeen = new Seen();
    Seen featureSeen = new Seen();
    Map<String, Object> properties = new java.util.HashMap<>();
    redisParams(10).forEach((k, v) -> properties.put("controltower." + k, v));
    int filtered = servletServer(redisParams(10), filterSeen);
    int featured = jaxrsServer(properties, featureSeen);
    String user = UUID.randomUUID().toString();

    for (int i = 0; i < 3; i++) {
      assertThat(get(filtered, "/x", user)).isEqualTo(200);
      assertThat(get(featured, "/hello", user)).isEqualTo(200);
    }

    assertThat(filterSeen.admitted).hasValue(3);
    assertThat(filterSeen.latencies).hasSize(3).containsOnly("eval");
    assertThat(featureSeen.admitted).hasValue(3);
    assertThat(featureSeen.latencies).hasSize(3).containsOnly("eval");
  }

  @Test
  void jaxrsFeature_storeRedisOnTwoServers_sharesOneLimit() throws Exception {
    Map<String, Object> properties = new java.util.HashMap<>();
    redisParams(3).forEach((k, v) -> properties.put("controltower." + k, v));
    int a = jaxrsServer(properties);
    int b = jaxrsServer(properties);
    String user = UUID.randomUUID().toString();
    long evalshaBefore = redis.calls("evalsha");

    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      statuses.add(get(i % 2 == 0 ? a : b, "/hello", user));
    }

    assertThat(statuses.subList(0, 3)).containsOnly(200);
    assertThat(statuses.subList(3, 8)).containsOnly(429);
    // One EVALSHA per admitted check; the second server learns of the refusal from Redis once, then
    // each server refuses from its local cache of refused pairs.
    assertThat(redis.calls("evalsha") - evalshaBefore).isBetween(3L + 1, 3L + 2);
  }

  @Test
  void stoppingServers_storesTheAdaptersBuilt_areClosed() throws Exception {
    long before = lettuceThreads();
    int a = servletServer(redisParams(5));
    Map<String, Object> properties = new java.util.HashMap<>();
    redisParams(5).forEach((k, v) -> properties.put("controltower." + k, v));
    int b = jaxrsServer(properties);
    String user = UUID.randomUUID().toString();
    assertThat(get(a, "/x", user)).isEqualTo(200);
    assertThat(get(b, "/hello", user)).isEqualTo(200);
    assertThat(lettuceThreads()).isGreaterThan(before);

    stopServers();
    servers.clear();

    long deadline = System.nanoTime() + 5_000_000_000L;
    while (lettuceThreads() > before && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(lettuceThreads()).isEqualTo(before);
  }

  private static long lettuceThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("lettuce-")).count();
  }

  @Test
  void servletFilter_storeRedisInAServletContext_publishesTheLimiterBuiltOnRedis() throws Exception {
    ServletContextHandler context = new ServletContextHandler("/");
    FilterHolder filter = new FilterHolder(RateLimitFilter.class);
    filter.setInitParameters(redisParams(2));
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new Ok()), "/*");
    ResourceConfig app = new ResourceConfig(Hello.class).register(QuotaFeature.class);
    context.addServlet(new ServletHolder(new ServletContainer(app)), "/api/*");
    int port = start(context);
    String user = UUID.randomUUID().toString();

    // The filter counts /api/hello once; the interceptor behind it finds the request counted.
    assertThat(get(port, "/api/hello", user)).isEqualTo(200);
    assertThat(get(port, "/x", user)).isEqualTo(200);
    assertThat(get(port, "/api/hello", user)).isEqualTo(429);
  }

  private static FilterConfig config(Map<String, String> params) {
    return new FilterConfig() {
      @Override
      public String getFilterName() {
        return "rate-limit";
      }

      @Override
      public ServletContext getServletContext() {
        return null;
      }

      @Override
      public String getInitParameter(String name) {
        return params.get(name);
      }

      @Override
      public Enumeration<String> getInitParameterNames() {
        return Collections.enumeration(params.keySet());
      }
    };
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "redis-uri     | http://127.0.0.1:6379 | redis-uri must be a URI like redis://host:6379 but was http://127.0.0.1:6379",
      "redis-uri     | redis://              | redis-uri must",
      "redis-uri     | ' '                   | redis-uri is required with store=redis",
      "store-timeout | soon                  | store-timeout must be a positive number of ms (50, 50ms or 2s) but was soon",
      "store-timeout | 0                     | store-timeout must be a positive number of ms (50, 50ms or 2s) but was 0",
      "fail-mode     | maybe                 | fail-mode must be one of local, open, closed but was maybe"})
  void servletFilterInit_badStoreValue_failsNamingParameterAndValue(String name, String value, String message) {
    Map<String, String> params = new java.util.HashMap<>(Map.of("store", "redis", "redis-uri", redis.uri()));
    params.put(name, value);

    assertThatThrownBy(() -> new RateLimitFilter().init(config(params)))
        .isInstanceOf(ServletException.class)
        .hasMessageStartingWith("RateLimitFilter rate-limit: ")
        .hasMessageContaining(message);
  }

  @Test
  void servletFilterInit_storeRedisWithoutUri_failsSayingItIsRequired() {
    assertThatThrownBy(() -> new RateLimitFilter().init(config(Map.of("store", "redis"))))
        .isInstanceOf(ServletException.class)
        .hasMessage("RateLimitFilter rate-limit: redis-uri is required with store=redis, e.g. redis://127.0.0.1:6379");
  }

  @Test
  void quotaFeature_badStoreProperty_failsDeploymentNamingPropertyAndValue() {
    ResourceConfig app = new ResourceConfig(Hello.class).register(QuotaFeature.class)
        .property("controltower.store", "redis").property("controltower.redis-uri", redis.uri())
        .property("controltower.fail-mode", "sometimes");

    assertThatThrownBy(() -> new ApplicationHandler(app))
        .hasStackTraceContaining("QuotaInterceptor: bad configuration property controltower.fail-mode must be one of"
            + " local, open, closed but was sometimes");
  }
}
