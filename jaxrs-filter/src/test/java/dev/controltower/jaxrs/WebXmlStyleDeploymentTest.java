package dev.controltower.jaxrs;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.http.HttpAttributes;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import jakarta.servlet.Servlet;
import jakarta.ws.rs.core.Application;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.glassfish.jersey.servlet.ServletContainer;
import org.jboss.resteasy.plugins.server.servlet.HttpServletDispatcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each runtime's servlet deployed as {@code web.xml} would deploy it: by the Application's class name
 * in the {@code jakarta.ws.rs.Application} init-parameter, the runtime creating everything itself. The
 * class-registered interceptor reads its properties and finds the shared instances in the servlet context.
 */
class WebXmlStyleDeploymentTest {

  /** An application as a user writes it. */
  public static class PropertiesApp extends Application {
    @Override
    public Set<Class<?>> getClasses() {
      return Set.of(QuotaInterceptor.class, TestResources.Users.class);
    }

    @Override
    public Map<String, Object> getProperties() {
      return Map.of("controltower.max-llm-calls", "1");
    }
  }

  private final FakeClock clock = FakeClock.atSeconds(100);
  private final RateLimiter limiter = RateLimiter.builder().clock(clock).build();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
  private final HttpClient http = HttpClient.newHttpClient();
  private Server server;

  @AfterEach
  void stop() throws Exception {
    server.stop();
  }

  private int start(Servlet servlet, String prefixInitParameter) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/");
    context.setAttribute(HttpAttributes.RATE_LIMITER, limiter);
    context.setAttribute(HttpAttributes.RESOURCE_TRACKER, tracker);
    context.addServletContainerInitializer(new QuotaServletInitializer());
    ServletHolder holder = new ServletHolder(servlet);
    holder.setInitParameter("jakarta.ws.rs.Application", PropertiesApp.class.getName());
    if (prefixInitParameter != null) {
      holder.setInitParameter(prefixInitParameter, "/api");
    }
    holder.setInitOrder(1);
    context.addServlet(holder, "/api/*");
    server.setHandler(context);
    server.start();
    return connector.getLocalPort();
  }

  private void assertLimitedAndTracked(int port) throws Exception {
    HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/users/1"))
        .build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> overQuota = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/users/2?llm=2")).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("RateLimit")).hasValue("\"minute\";r=59;t=60");
    assertThat(overQuota.statusCode()).isEqualTo(429);
    assertThat(overQuota.body()).contains("\"reason\":\"max_llm_calls_exceeded\"", "\"limit\":1");
    assertThat(limiter.getUsage("ip:127.0.0.1", "GET /users/{id}").get(LimitType.MINUTE).current()).isEqualTo(2);
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(2);
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }

  @Test
  void jersey_applicationByClassName_limitsAndTracks() throws Exception {
    assertLimitedAndTracked(start(new ServletContainer(), null));
  }

  @Test
  void resteasy_applicationByClassName_limitsAndTracks() throws Exception {
    assertLimitedAndTracked(start(new HttpServletDispatcher(), "resteasy.servlet.mapping.prefix"));
  }
}
