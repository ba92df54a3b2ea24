package dev.controltower.micrometer;

import dev.controltower.http.ProcessContext;
import dev.controltower.spi.kit.FakeClock;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.servlet.ServletContainer;

/** Real servers for the adapters' metrics tests: embedded Jetty with the servlet filter, or Jersey. */
final class Harness implements AutoCloseable {
  /** The clock the test servlet and resource advance ({@code ms=N}); set by each test before starting. */
  static volatile FakeClock clock;

  private final Server server;
  private final HttpClient http = HttpClient.newHttpClient();

  private Harness(Server server) {
    this.server = server;
  }

  /** The servlet filter on {@code /*} in front of {@link Work}. */
  static Harness servlet(Filter filter, Map<String, String> params, Consumer<ServletContextHandler> setup)
      throws Exception {
    ServletContextHandler context = new ServletContextHandler("/");
    setup.accept(context);
    FilterHolder holder = new FilterHolder(filter);
    holder.setInitParameters(params);
    context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new Work()), "/*");
    return start(context);
  }

  /** Jersey on {@code /*} with {@code app}, which registers the interceptor and {@link Resources}. */
  static Harness jersey(ResourceConfig app) throws Exception {
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServlet(new ServletHolder(new ServletContainer(app)), "/*");
    return start(context);
  }

  private static Harness start(ServletContextHandler context) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(context);
    server.start();
    return new Harness(server);
  }

  int port() {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  /** GETs {@code path}, with header pairs; the status. */
  int get(String path, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Override
  public void close() throws IOException {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IOException("cannot stop the server", e);
    }
  }

  /** Waits (bounded) until {@code active} reads 0: a release can run just after the client has its answer. */
  static void awaitZero(LongSupplier active) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (active.getAsLong() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
  }

  /** Moves the clock by {@code ms=N}, then records {@code llm=N} LLM calls (which may end the request). */
  static void work(ProcessContext process, String llm, String ms) {
    if (ms != null) {
      clock.advanceMillis(Long.parseLong(ms));
    }
    for (int i = llm == null ? 0 : Integer.parseInt(llm); i > 0; i--) {
      process.recordLlmCall(10, 5);
    }
  }

  /** The servlet behind the filter. */
  static final class Work extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      ProcessContext process = (ProcessContext) req.getAttribute(ProcessContext.ATTRIBUTE);
      if (process != null) {
        work(process, req.getParameter("llm"), req.getParameter("ms"));
      }
      resp.setContentType("text/plain");
      resp.getOutputStream().write("ok".getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The JAX-RS resources. */
  @Path("/")
  public static final class Resources {
    @GET
    @Path("users/{id}")
    public String user(@PathParam("id") String id) {
      return "user";
    }

    @GET
    @Path("run")
    public String run(@QueryParam("llm") String llm, @QueryParam("ms") String ms,
        @Context HttpServletRequest request) {
      work((ProcessContext) request.getAttribute(ProcessContext.ATTRIBUTE), llm, ms);
      return "ran";
    }
  }
}
