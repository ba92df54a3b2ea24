package dev.controltower.benchmarks;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A diagnostic of {@link HttpLoad}, on with {@code -Dhttpload.filterTime=true}: the wall time each request
 * spends in a variant's filters, outside the servlet, measured inside the server. A first filter times the
 * whole chain, the servlet times its own {@code service}, and the difference is recorded, in 10 ns buckets,
 * during the measured rounds. Unlike throughput and process CPU, this leaves out wrk, Jetty's connection
 * work and the other tenants of the machine (except when they preempt a request, which the median
 * ignores). {@code plain} has the timing filter alone: its figure is the floor that the others include.
 */
final class FilterTime {
  static final boolean ENABLED = Boolean.getBoolean("httpload.filterTime");
  private static final int BUCKETS = 50_000; // 10 ns each: up to 500 us, the rest in the last
  private static final Map<String, AtomicLongArray> HISTOGRAMS = new ConcurrentHashMap<>();
  private static final ThreadLocal<long[]> SERVLET_NANOS = ThreadLocal.withInitial(() -> new long[1]);
  private static volatile boolean recording;

  private FilterTime() {}

  static void reset() {
    HISTOGRAMS.clear();
    recording = true;
  }

  /** The first filter of a timed context. */
  static final class Outer implements Filter {
    private final String variant;

    Outer(String variant) {
      this.variant = variant;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      long[] servlet = SERVLET_NANOS.get();
      servlet[0] = 0;
      long start = System.nanoTime();
      chain.doFilter(request, response);
      long own = System.nanoTime() - start - servlet[0];
      if (recording) {
        HISTOGRAMS.computeIfAbsent(variant, v -> new AtomicLongArray(BUCKETS))
            .incrementAndGet((int) Math.max(0, Math.min(BUCKETS - 1, own / 10)));
      }
    }
  }

  /** The hello servlet, timing itself. */
  static final class TimedHello extends HttpLoad.HelloServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
      long start = System.nanoTime();
      super.doGet(request, response);
      SERVLET_NANOS.get()[0] += System.nanoTime() - start;
    }
  }

  static void print(String[] variants) {
    if (!ENABLED) {
      return;
    }
    recording = false;
    System.out.println();
    System.out.println("Filter time per request (ns, wall, inside the server; plain = the timing filter alone)");
    System.out.printf(Locale.ROOT, "%-17s %10s %8s %8s %8s %8s %12s%n", "variant", "requests", "p25", "median",
        "p75", "p90", "median-plain");
    double floor = Double.NaN;
    AtomicLongArray plain = HISTOGRAMS.get("plain");
    if (plain != null) {
      floor = quantile(plain, total(plain), 0.5);
    }
    for (String v : variants) {
      AtomicLongArray h = HISTOGRAMS.get(v);
      if (h == null) {
        continue;
      }
      long n = total(h);
      double median = quantile(h, n, 0.5);
      System.out.printf(Locale.ROOT, "%-17s %10d %8.0f %8.0f %8.0f %8.0f %12.0f%n", v, n, quantile(h, n, 0.25), median,
          quantile(h, n, 0.75), quantile(h, n, 0.9), median - floor);
    }
  }

  /** How many requests {@code h} holds. */
  private static long total(AtomicLongArray h) {
    long n = 0;
    for (int i = 0; i < BUCKETS; i++) {
      n += h.get(i);
    }
    return n;
  }

  /** The {@code q} quantile of the {@code n} requests in {@code h}, in ns, at the middle of its 10 ns bucket. */
  private static double quantile(AtomicLongArray h, long n, double q) {
    long rank = (long) Math.ceil(q * n);
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += h.get(i);
      if (seen >= rank) {
        return i * 10 + 5;
      }
    }
    return Double.NaN;
  }
}
