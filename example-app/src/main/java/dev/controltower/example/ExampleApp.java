package dev.controltower.example;

import dev.controltower.http.HttpAttributes;
import dev.controltower.micrometer.ControlTowerMetrics;
import dev.controltower.http.StoreSettings;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.WindowStore;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.resource.Resource;
import org.eclipse.jetty.util.resource.ResourceFactory;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.glassfish.jersey.servlet.ServletContainer;

/**
 * The example gateway: embedded Jetty 12 serving a servlet webapp (from its {@code WEB-INF/web.xml},
 * which declares {@code RateLimitFilter}), a Jersey application with {@code QuotaInterceptor}, the admin
 * API and the live dashboard. One {@link RateLimiter} and one {@link ResourceTracker} serve all of it.
 *
 * <p>Run it with {@code java -jar example-app/target/controltower-example-app.jar [--port=8080]}; see
 * {@link AppConfig} for every setting. SIGTERM stops it gracefully: in-flight requests get up to 10 s.
 */
public final class ExampleApp {
  /** Servlet-context attribute with the {@link AppConfig}. */
  public static final String CONFIG_ATTRIBUTE = "dev.controltower.example.AppConfig";
  /** Servlet-context attribute with the {@link PrometheusMeterRegistry} that {@code /admin/metrics} scrapes. */
  public static final String REGISTRY_ATTRIBUTE = "dev.controltower.example.PrometheusMeterRegistry";
  /** The agent demo's endpoint, with its token budget and its limit of runs at once. */
  static final String AGENT_RUN = "/api/agent/run";

  private final Server server;
  private final AppConfig config;
  private final RateLimiter limiter;
  private final ResourceTracker tracker;
  private final PrometheusMeterRegistry registry;

  private ExampleApp(Server server, AppConfig config, RateLimiter limiter, ResourceTracker tracker,
      PrometheusMeterRegistry registry) {
    this.server = server;
    this.config = config;
    this.limiter = limiter;
    this.tracker = tracker;
    this.registry = registry;
  }

  /**
   * Starts the app.
   *
   * @param config the settings
   * @return the running app
   * @throws Exception if Jetty cannot start (for example, the port is taken)
   */
  public static ExampleApp start(AppConfig config) throws Exception {
    // Every decision of the shared limiter (and of the adapters built on it) lands in this registry.
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ControlTowerMetrics metrics = new ControlTowerMetrics();
    metrics.bindTo(registry);
    // --store=redis: the store is found through ServiceLoader (controltower-redis is a runtime dependency),
    // exactly as the adapters find it from store=redis; the limits are then shared by every instance.
    Map<String, String> storeOptions = new HashMap<>(config.storeOptions());
    if (config.redisUri() != null) {
      storeOptions.put("redis-uri", config.redisUri());
    }
    WindowStore store = new StoreSettings(config.store(), storeOptions).newStore(ExampleApp.class.getClassLoader(), 10,
        metrics); // the store's fallbacks, breaker changes and latency go to /admin/metrics too
    RateLimiter.Builder limits = RateLimiter.builder()
        .listener(metrics)
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(config.requestsPerMinute()).build());
    RateLimiter limiter = (store == null ? limits : limits.bucketCount(10).store(store)).build();
    limiter.setEndpointLimits("/api/hello", RateLimitConfig.builder().requestsPerMinute(config.helloPerMinute()).build());
    // The agent demo's LLM budget: tokens per user per minute (the fake agent reserves an estimate before
    // each LLM call and records the actual) and runs per user at once. A store that cannot count tokens
    // or permits (Redis, until it can) keeps only the request limits: the limiter would refuse the config.
    limiter.setEndpointLimits(AGENT_RUN, RateLimitConfig.builder()
        .requestsPerMinute(config.requestsPerMinute())
        .tokensPerMinute(store == null || store.countsTokens() ? config.tokensPerMinute() : 0)
        .maxConcurrentRequests(store == null || store.countsPermits() ? config.maxConcurrentRuns() : 0)
        .build());
    ResourceTracker tracker = ResourceTracker.builder()
        .defaultQuota(ResourceQuota.builder().maxLlmCalls(config.maxLlmCalls()).build())
        .build();

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(config.host());
    connector.setPort(config.port());
    server.addConnector(connector);

    WebAppContext webapp = new WebAppContext();
    webapp.setContextPath("/");
    Resource base = ResourceFactory.of(webapp).newClassLoaderResource("webapp/");
    if (base == null) {
      throw new IllegalStateException("the webapp/ folder is missing from the classpath");
    }
    webapp.setBaseResource(base);
    webapp.setParentLoaderPriority(true);
    webapp.setThrowUnavailableOnStartupException(true);
    webapp.setAttribute(HttpAttributes.RATE_LIMITER, limiter);
    webapp.setAttribute(HttpAttributes.RESOURCE_TRACKER, tracker);
    webapp.setAttribute(CONFIG_ATTRIBUTE, config);
    webapp.setAttribute(REGISTRY_ATTRIBUTE, registry);
    webapp.addServlet(new ServletHolder("agent-api", new ServletContainer(new AgentApi(limiter, tracker))), "/v1/*");
    // /admin/api/* (JSON) and /admin/metrics (Prometheus text) behind one token check; the dashboard's
    // exact mapping in web.xml wins over this prefix.
    webapp.addServlet(new ServletHolder("admin-api",
        new ServletContainer(new AdminApplication(config.adminToken()))), "/admin/*");

    GracefulHandler graceful = new GracefulHandler(webapp);
    server.setHandler(graceful);
    server.setStopTimeout(10_000);
    server.setStopAtShutdown(true);
    if (store != null) {
      server.addEventListener(new LifeCycle.Listener() {
        @Override
        public void lifeCycleStopped(LifeCycle event) {
          store.close();
        }
      });
    }
    try {
      server.start();
    } catch (Exception e) {
      if (store != null) {
        store.close();
      }
      throw e;
    }
    return new ExampleApp(server, config, limiter, tracker, registry);
  }

  /** The port the app listens on (useful with {@code --port=0}). */
  public int port() {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  /** The base URL, such as {@code http://127.0.0.1:8080}. */
  public String baseUrl() {
    return "http://" + config.host() + ":" + port();
  }

  /** The shared limiter. */
  public RateLimiter limiter() {
    return limiter;
  }

  /** The shared tracker. */
  public ResourceTracker tracker() {
    return tracker;
  }

  /** The registry that {@code GET /admin/metrics} scrapes. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Stops the app, letting in-flight requests finish (up to 10 s). */
  public void stop() throws Exception {
    server.stop();
  }

  /** Blocks until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  void printWelcome(PrintStream out) {
    String base = baseUrl();
    out.println();
    out.println("Control Tower example is running on " + base);
    out.println("Limits counted in " + ("redis".equals(config.store())
        ? "Redis at " + StoreSettings.withoutPassword(config.redisUri()) + ", shared by every instance on it"
        : "memory, in this process"));
    out.println();
    out.println("  Rate limit (5 per minute), then 429 + Retry-After:");
    out.println("    curl -i " + base + "/api/hello");
    out.println("  An agent that runs out of LLM calls (429 max_llm_calls_exceeded):");
    out.println("    curl -i -X POST '" + base + "/api/agent/run?steps=20'");
    out.println("  An agent that finishes within its quota:");
    out.println("    curl -i -X POST '" + base + "/api/agent/run?steps=5'");
    RateLimitConfig agent = limiter.getConfig("anyone", AGENT_RUN);
    if (agent.tokensPerMinute() > 0) {
      out.println("  A token budget (" + agent.tokensPerMinute() + " per minute): the third run in a minute ends in"
          + " 429 tokens-minute:");
      out.println("    curl -i -X POST '" + base + "/api/agent/run?steps=10'");
    }
    if (agent.maxConcurrentRequests() > 0) {
      out.println("  At most " + agent.maxConcurrentRequests() + " runs at once, then 429 concurrent-requests:");
      out.println("    curl -i -X POST '" + base + "/api/agent/run?steps=5&latency_ms=1000'");
    }
    out.println("  JAX-RS, keyed by route template (GET /users/{id}):");
    out.println("    curl -i " + base + "/v1/users/42");
    // A configured token is the operator's secret: it never reaches stdout (logs, CI output, terminals
    // shared on screen). Only a token made up for this run is shown, since nobody else knows it.
    String token = config.adminTokenGenerated() ? config.adminToken() : "<your admin token>";
    out.println("  Admin API (token " + (config.adminTokenGenerated() ? "generated for this run" : "from configuration, not shown") + "):");
    out.println("    curl -H 'Authorization: Bearer " + token + "' " + base + "/admin/api/system");
    out.println("  Metrics (Prometheus text format):");
    out.println("    curl -H 'Authorization: Bearer " + token + "' " + base + "/admin/metrics");
    out.println("  Live dashboard:");
    out.println("    " + base + "/admin/dashboard#token=" + token);
    out.println();
    out.println("Stop with Ctrl-C (SIGINT) or SIGTERM.");
  }

  /**
   * Starts the app from the command line and waits until it is stopped.
   *
   * @param args {@code --name=value} options, see {@link AppConfig}
   */
  public static void main(String[] args) throws Exception {
    AppConfig config;
    try {
      config = AppConfig.from(args, System::getenv);
    } catch (IllegalArgumentException e) {
      System.err.println("controltower-example: bad configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    ExampleApp app;
    try {
      app = start(config);
    } catch (IllegalArgumentException e) {
      System.err.println("controltower-example: bad configuration: " + e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      System.err.println("controltower-example: cannot start on " + config.host() + ":" + config.port() + ": " + e);
      System.exit(1);
      return;
    }
    app.printWelcome(System.out);
    app.join();
  }
}
