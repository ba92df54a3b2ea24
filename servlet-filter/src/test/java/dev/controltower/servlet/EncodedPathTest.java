package dev.controltower.servlet;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.testapp.MappingServlet;
import jakarta.servlet.DispatcherType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Encoded and double-encoded {@code ;}, {@code .}, {@code /} and {@code \} against prefix-mapped
 * servlets ({@code /api/*}, {@code /api/expensive/*}, {@code /static/*}) with {@code exclude-paths=/static/*}
 * and the endpoint {@code /api/expensive/*}, on Jetty 12 and Tomcat 11 with their default URI rules:
 * the filter's decision must agree with the servlet the container chose (http.md "Which endpoint",
 * 2026-12-01). A request the container serves from an {@code /api} servlet is never passed uncounted,
 * and one it serves from {@code /api/expensive/*} counts against that endpoint (or is refused with 400).
 */
class EncodedPathTest {
  private static final Map<String, String> PARAMS =
      Map.of("endpoint-patterns", "/api/expensive/*", "exclude-paths", "/static/*");
  private static final List<String> TARGETS = List.of(
      "/api/x/..%3B/..%3B/static/y", "/api/x/..%253B/..%253B/static/y", "/api/x/..;/..;/static/y",
      "/api/x/%2E%2E/%2E%2E/static/y", "/api/x/%2e%2e%3B/%2e%2e%3B/static/y", "/api/x/%252E%252E/%252E%252E/static/y",
      "/api/x/..%2F..%2Fstatic/y", "/api/x/..%252F..%252Fstatic/y", "/api/x%2F..%2F..%2Fstatic%2Fy",
      "/api/x/..%5C..%5Cstatic/y", "/api/x/..%255C..%255Cstatic/y", "/api/x/..\\..\\static/y",
      "/api/x/.%3B/..%3B/static/y", "/api/x/%2E%3B/static/y", "/api/%2E%2E%3B/static/y",
      "/api/expensive/..%3B/run", "/api/expensive/..%253B/run", "/api/expensive/%2E%2E/run",
      "/api/expensive/%2E%2E%3B/run", "/api/expensive/..%2Frun", "/api/expensive/..%5Crun",
      "/api/expensive/.%3B/run", "/api/expensive;x=1/run", "/api/expensive%3Bx=1/run",
      "/static/..%3B/api/expensive/run", "/static/%2E%2E/api/expensive/run", "/static/..%2Fapi/expensive/run");

  @TempDir
  Path baseDir;

  private final RateLimiter limiter = RateLimiter.builder().clock(FakeClock.atMillis(100_000))
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(1000).build()).build();
  private final ResourceTracker tracker = ResourceTracker.create();
  private AutoCloseable server;

  enum Container { JETTY, TOMCAT }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private int start(Container container) throws Exception {
    return container == Container.JETTY ? startJetty() : startTomcat();
  }

  private int startJetty() throws Exception {
    Server jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/");
    FilterHolder filter = new FilterHolder(new RateLimitFilter(limiter, tracker));
    filter.setInitParameters(PARAMS);
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    for (String pattern : new String[] {"/api/*", "/api/expensive/*", "/static/*"}) {
      context.addServlet(new ServletHolder(new MappingServlet()), pattern);
    }
    jetty.setHandler(context);
    jetty.start();
    server = jetty::stop;
    return connector.getLocalPort();
  }

  private int startTomcat() throws Exception {
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    tomcat.setPort(0);
    Context context = tomcat.addContext("", Files.createDirectories(baseDir.resolve("webapp")).toString());
    ((StandardContext) context).setClearReferencesRmiTargets(false);
    ((StandardContext) context).setClearReferencesThreadLocals(false);
    int i = 0;
    for (String pattern : new String[] {"/api/*", "/api/expensive/*", "/static/*"}) {
      String name = "s" + i++;
      Tomcat.addServlet(context, name, new MappingServlet());
      context.addServletMapping(pattern, name);
    }
    FilterDef def = new FilterDef();
    def.setFilterName("rate-limit");
    def.setFilter(new RateLimitFilter(limiter, tracker));
    PARAMS.forEach(def::addInitParameter);
    context.addFilterDef(def);
    FilterMap map = new FilterMap();
    map.setFilterName("rate-limit");
    map.addURLPattern("/*");
    context.addFilterMap(map);
    tomcat.getConnector();
    tomcat.start();
    server = () -> {
      tomcat.stop();
      tomcat.destroy();
    };
    return tomcat.getConnector().getLocalPort();
  }

  @ParameterizedTest
  @EnumSource(Container.class)
  void encodedPaths_servedByAnApiServlet_areCountedAgainstItsEndpoint(Container container) throws Exception {
    int port = start(container);

    List<String> report = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    for (String target : TARGETS) {
      RawHttp.Response r = RawHttp.get(port, target);
      String line = r.status() + " " + target + " -> " + r.body();
      report.add(line);
      boolean ok;
      if (r.status() != 200) {
        ok = r.status() == 400; // refused by the container or by the filter: served by no servlet
      } else if (r.body().startsWith("mapping=/api/expensive/*")) {
        ok = r.body().equals("mapping=/api/expensive/* endpoint=/api/expensive/*");
      } else if (r.body().startsWith("mapping=/api/*")) {
        ok = r.body().equals("mapping=/api/* endpoint=default");
      } else {
        ok = r.body().startsWith("mapping=/static/* endpoint=");
      }
      if (!ok) {
        wrong.add(line);
      }
    }
    System.out.println(container + ":\n  " + String.join("\n  ", report));
    assertThat(wrong).as("served by an /api servlet but not counted against its endpoint").isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Container.class)
  void plainPaths_countAndExcludeAsConfigured(Container container) throws Exception {
    int port = start(container);

    assertThat(RawHttp.get(port, "/api/x").body()).isEqualTo("mapping=/api/* endpoint=default");
    assertThat(RawHttp.get(port, "/api/expensive/run").body())
        .isEqualTo("mapping=/api/expensive/* endpoint=/api/expensive/*");
    assertThat(RawHttp.get(port, "/static/y").body()).isEqualTo("mapping=/static/* endpoint=untracked");
    assertThat(RawHttp.get(port, "/api/x/../../static/y").body()).isEqualTo("mapping=/static/* endpoint=untracked");
    assertThat(RawHttp.get(port, "/api/x;jsessionid=1").body()).isEqualTo("mapping=/api/* endpoint=default");
  }
}
