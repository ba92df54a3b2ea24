package dev.controltower.benchmarks;

import dev.controltower.servlet.RateLimitFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.ee11.servlets.DoSFilter;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.server.handler.DoSHandler;

/**
 * HTTP load: one hello endpoint on embedded Jetty 12 (ee11), served three ways by one server, loaded with
 * {@code wrk} on loopback in interleaved rounds, and one table of medians.
 *
 * <ul>
 *   <li>{@code plain}: no filter, the baseline;
 *   <li>{@code controltower}: {@link RateLimitFilter}, burst 1,000,000 per second (and minute 60,000,000,
 *       hour and day 2^31 - 1), so every request is admitted and counted;
 *   <li>{@code jetty-dos}: Jetty's {@link DoSFilter}, {@code maxRequestsPerSec} 1,000,000: the same limit;
 *   <li>{@code jetty-doshandler}: Jetty 12.1's core {@link DoSHandler} inside the servlet context, a leaking
 *       bucket of 1,000,000 requests per second per client address.
 * </ul>
 *
 * <p>{@code controltower-bare} is the kit with {@code rate-limit-headers=none} and
 * {@code process-id-header=none}: like for like with DoSFilter, which writes no field.
 *
 * <p>Diagnostic variants run only when named: {@code noop-filter} (a filter that only calls the
 * chain) and {@code fields-only} (a filter that only writes the kit's three response fields, with fixed
 * values) split the kit's cost into the filter chain, the fields, and the rest; {@code controltower-1s}
 * is the kit with the one per-second limit of the Jetty variants and its other windows disabled.
 * {@code fields-short} (the same three writes with one-character values) and {@code bytes-only} (the
 * same 208 bytes in one field) tell whether the fields cost by their number or their size.
 * More diagnostics, also only when named: {@code controltower-nopid} (the draft fields, no pid field, so
 * pids are lazy) and {@code controltower-pidonly} (the pid field, no rate-limit field) split the
 * defaults; {@code api-reads}, {@code api-write}, {@code api-remote}, {@code api-attrs},
 * {@code api-principal} and {@code api-misc} make the servlet API calls of the kit's bare path without
 * the kit. With {@code -Dhttpload.filterTime=true}, {@link FilterTime} also prints each variant's filter
 * time per request, measured inside the server.
 *
 * <p>Before the load, {@link #proveLimiting} shows on a second server, with a limit of 10 per second,
 * that each limiting variant turns requests away.
 *
 * <p>Every limiter keys on the client address, so all the load falls on one key: the busy-key case. Each
 * round runs every variant once, starting with a different one each round, so that drift in the
 * machine's load falls on every variant alike. A run with any non-2xx answer is reported, since the
 * limits are meant to admit everything.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.controltower.benchmarks.HttpLoad [rounds] [seconds]
 * [connections] [variants]}; defaults 5 rounds of 5 s, 16 connections, one wrk thread, all variants.
 */
public final class HttpLoad {
  private static final String[] ALL_VARIANTS =
      {"plain", "controltower", "controltower-bare", "jetty-dos", "jetty-doshandler"};
  private static String[] VARIANTS = ALL_VARIANTS;
  private static final int PER_SECOND = 1_000_000;
  /**
   * The length of {@code bytes-only}'s one value: with its name, ": " and CRLF, the 208 bytes that
   * {@code fields-only}'s three fields add to a response.
   */
  private static final int FIELD_BYTES = 199;

  private HttpLoad() {}

  /** The endpoint: a fixed short body. */
  public static class HelloServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final byte[] BODY = "hello\n".getBytes(StandardCharsets.US_ASCII);

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
      response.setContentType("text/plain");
      response.setContentLength(BODY.length);
      response.getOutputStream().write(BODY);
    }
  }

  /** One wrk run. */
  record Sample(double requestsPerSecond, double p50Millis, double p99Millis, long non2xx, double serverCpuMicros) {}

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int connections = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    if (args.length > 3) {
      VARIANTS = args[3].split(",");   // a subset; the table needs plain and controltower
    }

    proveLimiting();
    Server server = start(PER_SECOND);
    int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    try {
      for (String v : VARIANTS) {
        check(url(port, v));
      }
      System.err.println("warming up");
      for (String v : VARIANTS) {
        wrk(url(port, v), 3, connections);
      }
      Map<String, List<Sample>> samples = new LinkedHashMap<>();
      FilterTime.reset();
      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < VARIANTS.length; i++) {
          String v = VARIANTS[(round + i) % VARIANTS.length];
          System.err.printf(Locale.ROOT, "round %d/%d: %s%n", round + 1, rounds, v);
          samples.computeIfAbsent(v, k -> new ArrayList<>()).add(wrk(url(port, v), seconds, connections));
        }
      }
      if (samples.containsKey("plain") && samples.containsKey("controltower")) {
        print(samples, rounds, seconds, connections);
      }
      FilterTime.print(VARIANTS);
    } finally {
      server.stop();
    }
  }

  /**
   * Shows that every limiting variant really limits: the same server with a limit of 10 per second
   * must turn away some of 50 back-to-back requests. A variant whose limiter were not engaged would
   * otherwise look free in the table.
   */
  static void proveLimiting() throws Exception {
    int perSecond = 10;
    Server server = start(perSecond);
    int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    try {
      for (String v : List.of("controltower", "controltower-bare", "controltower-1s", "jetty-dos", "jetty-doshandler")) {
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        for (int i = 0; i < 5 * perSecond; i++) {
          HttpURLConnection c = (HttpURLConnection) URI.create(url(port, v)).toURL().openConnection();
          statuses.merge(c.getResponseCode(), 1, Integer::sum);
          c.disconnect();
        }
        if (statuses.getOrDefault(200, 0) == 0 || statuses.getOrDefault(429, 0) == 0) {
          throw new IllegalStateException(v + " does not limit: " + statuses);
        }
        System.out.printf(Locale.ROOT, "%s at %d per second limits: %s%n", v, perSecond, statuses);
      }
    } finally {
      server.stop();
    }
  }

  static Server start(int perSecond) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);

    ServletContextHandler plain = hello("plain");

    ServletContextHandler kit = withFilter(hello("controltower"),
        kitFilter(perSecond, Math.min(Integer.MAX_VALUE, 60L * perSecond), Integer.MAX_VALUE, Integer.MAX_VALUE));
    // Like for like with DoSFilter, which writes no response field: the kit with rate-limit-headers=none
    // and process-id-header=none (a 429 still carries Retry-After and its body).
    FilterHolder bareFilter = kitFilter(perSecond, Math.min(Integer.MAX_VALUE, 60L * perSecond), Integer.MAX_VALUE,
        Integer.MAX_VALUE);
    bareFilter.setInitParameter("rate-limit-headers", "none");
    bareFilter.setInitParameter("process-id-header", "none");
    ServletContextHandler kitBare = withFilter(hello("controltower-bare"), bareFilter);
    // Diagnostics that split the defaults: the draft fields without the pid field (pids lazy), and the
    // pid field without the rate-limit fields.
    FilterHolder fieldsFilter = kitFilter(perSecond, Math.min(Integer.MAX_VALUE, 60L * perSecond), Integer.MAX_VALUE,
        Integer.MAX_VALUE);
    fieldsFilter.setInitParameter("process-id-header", "none");
    ServletContextHandler kitFields = withFilter(hello("controltower-nopid"), fieldsFilter);
    FilterHolder pidFilter = kitFilter(perSecond, Math.min(Integer.MAX_VALUE, 60L * perSecond), Integer.MAX_VALUE,
        Integer.MAX_VALUE);
    pidFilter.setInitParameter("rate-limit-headers", "none");
    ServletContextHandler kitPid = withFilter(hello("controltower-pidonly"), pidFilter);
    // The same single limit as the Jetty variants, the other windows disabled (0).
    ServletContextHandler kitOneWindow = withFilter(hello("controltower-1s"), kitFilter(perSecond, 0, 0, 0));

    FilterHolder dosFilter = new FilterHolder(DoSFilter.class);
    dosFilter.setInitParameter("maxRequestsPerSec", Integer.toString(perSecond));
    dosFilter.setInitParameter("delayMs", "-1");
    ServletContextHandler dos = withFilter(hello("jetty-dos"), dosFilter);

    ServletContextHandler dosHandlerContext = hello("jetty-doshandler");
    dosHandlerContext.insertHandler(new DoSHandler(new DoSHandler.LeakingBucketTrackerFactory(perSecond)));

    // Diagnostic variants, not in the default table: the cost of any filter in the chain, and the cost of
    // writing the kit's three response fields without computing them.
    ServletContextHandler noop = withFilter(hello("noop-filter"),
        new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> c.doFilter(q, r)));
    ServletContextHandler fields = withFilter(hello("fields-only"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      HttpServletResponse response = (HttpServletResponse) r;
      response.setHeader("RateLimit-Policy", "\"minute\";q=60000000;w=60, \"hour\";q=2147483647;w=3600, "
          + "\"day\";q=2147483647;w=86400, \"burst\";q=1000000;w=1");
      response.setHeader("RateLimit", "\"burst\";r=999999;t=1");
      response.setHeader("X-Process-Id", "0b6e4c1e-3f0a-4d7e-9a55-6c1f2d3e4f50");
      c.doFilter(q, r);
    }));

    // The same three writes with one-character values, and the same bytes in one field: whether the
    // fields cost by their number or by their size.
    ServletContextHandler fieldsShort = withFilter(hello("fields-short"),
        new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
          HttpServletResponse response = (HttpServletResponse) r;
          response.setHeader("RateLimit-Policy", "a");
          response.setHeader("RateLimit", "b");
          response.setHeader("X-Process-Id", "c");
          c.doFilter(q, r);
        }));
    String pad = "p".repeat(FIELD_BYTES);
    ServletContextHandler bytesOnly = withFilter(hello("bytes-only"),
        new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
          ((HttpServletResponse) r).setHeader("X-Pad", pad);
          c.doFilter(q, r);
        }));

    // The servlet API calls the kit's bare path makes, without the kit: reads, and the one attribute write.
    ServletContextHandler apiReads = withFilter(hello("api-reads"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      HttpServletRequest request = (HttpServletRequest) q;
      Object sink = request.getDispatcherType();
      sink = request.getAttribute("dev.controltower.counted") == null ? request.getAttribute("dev.controltower.process") : sink;
      sink = request.getMethod();
      sink = request.getUserPrincipal();
      String remote = request.getRemoteAddr();
      c.doFilter(q, r);
      if (request.isAsyncStarted() || sink == remote) {
        throw new IllegalStateException();
      }
    }));
    ServletContextHandler apiWrite = withFilter(hello("api-write"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      q.setAttribute("dev.controltower.process", Boolean.TRUE);
      c.doFilter(q, r);
    }));
    ServletContextHandler remoteAddr = withFilter(hello("api-remote"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      if (q.getRemoteAddr() == null) {
        throw new IllegalStateException();
      }
      c.doFilter(q, r);
    }));

    ServletContextHandler attrs = withFilter(hello("api-attrs"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      if (q.getAttribute("dev.controltower.counted") != null || q.getAttribute("dev.controltower.process") != null) {
        throw new IllegalStateException();
      }
      c.doFilter(q, r);
    }));
    ServletContextHandler principal = withFilter(hello("api-principal"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      if (((HttpServletRequest) q).getUserPrincipal() != null) {
        throw new IllegalStateException();
      }
      c.doFilter(q, r);
    }));
    ServletContextHandler misc = withFilter(hello("api-misc"), new FilterHolder((jakarta.servlet.Filter) (q, r, c) -> {
      if (q.getDispatcherType() != DispatcherType.REQUEST || ((HttpServletRequest) q).getMethod() == null) {
        throw new IllegalStateException();
      }
      c.doFilter(q, r);
      if (q.isAsyncStarted()) {
        throw new IllegalStateException();
      }
    }));

    server.setHandler(new ContextHandlerCollection(plain, kit, kitBare, kitOneWindow, dos, dosHandlerContext, noop, fields,
        fieldsShort, bytesOnly,
        apiReads, apiWrite, remoteAddr, attrs, principal, misc, kitFields, kitPid));
    server.start();
    return server;
  }

  /** A context at {@code /variant} serving the hello servlet at {@code /hello}. */
  private static ServletContextHandler hello(String variant) {
    ServletContextHandler context = new ServletContextHandler("/" + variant);
    if (FilterTime.ENABLED) {
      // First in the chain: it times the whole chain; the servlet times itself, and the difference is
      // what the filters between them cost.
      context.addFilter(new FilterHolder(new FilterTime.Outer(variant)), "/*", EnumSet.of(DispatcherType.REQUEST));
      context.addServlet(new ServletHolder(new FilterTime.TimedHello()), "/hello");
    } else {
      context.addServlet(new ServletHolder(new HelloServlet()), "/hello");
    }
    return context;
  }

  /** {@code context} with {@code filter} over every path, on REQUEST dispatches. */
  private static ServletContextHandler withFilter(ServletContextHandler context, FilterHolder filter) {
    context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    return context;
  }

  /** A {@link RateLimitFilter} with these window limits (0 disables a window). */
  private static FilterHolder kitFilter(int burst, long perMinute, long perHour, long perDay) {
    FilterHolder filter = new FilterHolder(RateLimitFilter.class);
    filter.setInitParameter("burst-size", Integer.toString(burst));
    filter.setInitParameter("requests-per-minute", Long.toString(perMinute));
    filter.setInitParameter("requests-per-hour", Long.toString(perHour));
    filter.setInitParameter("requests-per-day", Long.toString(perDay));
    return filter;
  }

  static String url(int port, String variant) {
    return "http://127.0.0.1:" + port + "/" + variant + "/hello";
  }

  private static void check(String url) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    int status = c.getResponseCode();
    try (InputStream in = c.getInputStream()) {
      String body = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      if (status != 200 || !body.equals("hello\n")) {
        throw new IllegalStateException(url + " answered " + status + " " + body);
      }
    }
    System.err.printf(Locale.ROOT, "%s: 200, RateLimit: %s%n", url, c.getHeaderField("RateLimit"));
  }

  static Sample wrk(String url, int seconds, int connections) throws IOException, InterruptedException {
    long cpuBefore = OS.getProcessCpuTime();
    Process p = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--latency", url)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("wrk failed:\n" + out);
    }
    // This JVM's CPU time (all threads: Jetty, GC, JIT) per request served during the run.
    double cpuMicros = (OS.getProcessCpuTime() - cpuBefore) / 1000.0 / number(out, "([0-9]+) requests in");
    return new Sample(number(out, "Requests/sec:\\s+([0-9.]+)"), millis(out, "50%"), millis(out, "99%"),
        (long) numberOr(out, "Non-2xx or 3xx responses:\\s+([0-9]+)", 0), cpuMicros);
  }

  private static double number(String text, String regex) {
    double v = numberOr(text, regex, Double.NaN);
    if (Double.isNaN(v)) {
      throw new IllegalStateException("no " + regex + " in wrk output:\n" + text);
    }
    return v;
  }

  private static double numberOr(String text, String regex, double otherwise) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : otherwise;
  }

  /** A latency percentile line of {@code wrk --latency}, such as {@code 99%  1.23ms}, in ms. */
  private static double millis(String text, String percentile) {
    Matcher m = Pattern.compile("\\s" + Pattern.quote(percentile) + "\\s+([0-9.]+)(us|ms|s)").matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no " + percentile + " in wrk output:\n" + text);
    }
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
  }

  private static void print(Map<String, List<Sample>> samples, int rounds, int seconds, int connections) {
    System.out.println();
    System.out.printf(Locale.ROOT, "HTTP: wrk -t1 -c%d -d%ds --latency, %d interleaved rounds, medians%n",
        connections, seconds, rounds);
    System.out.printf(Locale.ROOT, "%-17s %12s %10s %10s %10s %9s %8s %14s%n", "variant", "requests/s",
        "vs plain", "overhead", "p50 ms", "p99 ms", "non-2xx", "server us/req");
    double plain = median(samples.get("plain"), Sample::requestsPerSecond);
    Map<String, Double> ratios = new LinkedHashMap<>();
    for (String v : VARIANTS) {
      List<Sample> s = samples.get(v);
      double rps = median(s, Sample::requestsPerSecond);
      // The ratio per round, against the plain run of the same round, then its median.
      List<Double> perRound = new ArrayList<>();
      for (int r = 0; r < s.size(); r++) {
        perRound.add(s.get(r).requestsPerSecond() / samples.get("plain").get(r).requestsPerSecond());
      }
      double ratio = Suite.median(perRound);
      ratios.put(v, ratio);
      long non2xx = s.stream().mapToLong(Sample::non2xx).sum();
      System.out.printf(Locale.ROOT, "%-17s %12.0f %9.3fx %9.1f%% %10.3f %9.3f %8d %14.2f%n", v, rps, ratio,
          (1 - ratio) * 100, median(s, Sample::p50Millis), median(s, Sample::p99Millis), non2xx,
          median(s, Sample::serverCpuMicros));
    }
    double kit = ratios.get("controltower");
    System.out.println();
    System.out.printf(Locale.ROOT, "target controltower >= 0.97x plain: %.3fx %s%n", kit, kit >= 0.97 ? "met" : "MISSED");
    for (String peer : List.of("jetty-dos", "jetty-doshandler")) {
      if (!ratios.containsKey(peer)) {
        continue;
      }
      double other = ratios.get(peer);
      System.out.printf(Locale.ROOT, "controltower overhead vs %s overhead (throughput): %.1f%% vs %.1f%%%n", peer,
          (1 - kit) * 100, (1 - other) * 100);
    }
    if (samples.containsKey("controltower-bare") && samples.containsKey("jetty-dos")) {
      double plainCpu = median(samples.get("plain"), Sample::serverCpuMicros);
      double bareCpu = median(samples.get("controltower-bare"), Sample::serverCpuMicros) - plainCpu;
      double dosCpu = median(samples.get("jetty-dos"), Sample::serverCpuMicros) - plainCpu;
      System.out.printf(Locale.ROOT, "target controltower-bare added server CPU <= jetty-dos's: +%.2f vs +%.2f us/request %s%n",
          bareCpu, dosCpu, bareCpu <= dosCpu ? "met" : "MISSED");
    }
    System.out.printf(Locale.ROOT, "(plain median %.0f requests/s; ratios are medians of per-round ratios)%n", plain);
  }

  private static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f) {
    List<Double> values = new ArrayList<>();
    for (Sample s : samples) {
      values.add(f.applyAsDouble(s));
    }
    return Suite.median(values);
  }
}
