package dev.controltower.servlet;

import dev.controltower.servlet.testapp.EchoServlet;
import dev.controltower.servlet.testapp.TestPrincipalFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.EnumSet;
import java.util.Map;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Embedded Jetty 12 (ee11) with the test principal filter, a {@link RateLimitFilter} and the echo servlet
 * on {@code /*}; request headers up to 128 KB.
 */
final class EmbeddedJetty {
  private final Server server;
  private final ServerConnector connector;
  private final ServletContextHandler context;

  private EmbeddedJetty(Filter rateLimitFilter, Map<String, String> initParams, UriCompliance compliance)
      throws Exception {
    server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(128 * 1024);
    if (compliance != null) {
      http.setUriCompliance(compliance);
    }
    connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setPort(0);
    server.addConnector(connector);
    context = new ServletContextHandler("/");
    if (compliance != null) {
      context.getServletHandler().setDecodeAmbiguousURIs(true);
    }
    context.addFilter(new FilterHolder(new TestPrincipalFilter()), "/*", EnumSet.of(DispatcherType.REQUEST));
    FilterHolder limit = new FilterHolder(rateLimitFilter);
    limit.setAsyncSupported(true);
    limit.setInitParameters(initParams);
    context.addFilter(limit, "/*", EnumSet.allOf(DispatcherType.class));
    ServletHolder echo = new ServletHolder(new EchoServlet());
    echo.setAsyncSupported(true);
    context.addServlet(echo, "/*");
    server.setHandler(context);
    server.start();
  }

  static EmbeddedJetty start(Filter filter, Map<String, String> initParams) throws Exception {
    return new EmbeddedJetty(filter, initParams, null);
  }

  static EmbeddedJetty start(Filter filter, Map<String, String> initParams, UriCompliance compliance) throws Exception {
    return new EmbeddedJetty(filter, initParams, compliance);
  }

  int port() {
    return connector.getLocalPort();
  }

  ServletContextHandler context() {
    return context;
  }

  void close() throws Exception {
    server.stop();
  }
}
