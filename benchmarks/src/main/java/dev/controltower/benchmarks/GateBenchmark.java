package dev.controltower.benchmarks;

import dev.controltower.http.Admission;
import dev.controltower.http.HttpSettings;
import dev.controltower.http.RequestGate;
import dev.controltower.resources.RateLimitDecision;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The framework-neutral part of one filtered request, piece by piece, shaped like the HTTP load test
 * (one client address, four enabled windows, no endpoint patterns, every request admitted; the limits
 * are 2^31 - 1 here, since one thread outruns the load test's million per second): who
 * ({@code clientKey}), which endpoint, the decision alone, and admit + release (decision, pid, process,
 * response fields). It explains where the filter's share of an HTTP request goes; it is not one of
 * issue 6's targets. Run with {@code -t 1} and {@code -t 2}; {@code -prof gc} gives B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class GateBenchmark {
  private RequestGate gate;
  private final Function<String, List<String>> noHeaders = name -> List.of();
  private String key;

  /**
   * {@code none}: no listener ({@code NOOP}); {@code micrometer}: the limiter and so the gate report to
   * {@code ControlTowerMetrics} on a {@code SimpleMeterRegistry} (admitted counter, process gauge and
   * timer, and the tracker's elapsed-time reading at release that only a listener pays for).
   */
  @Param({"none", "micrometer"})
  public String listener;

  /**
   * {@code default}: the draft fields and {@code X-Process-Id}; {@code bare}: {@code rate-limit-headers=none}
   * and {@code process-id-header=none}, as {@code controltower-bare} in {@link HttpLoad}.
   */
  @Param({"default", "bare"})
  public String fields;

  @Setup
  public void setUp() {
    Map<String, String> params = new java.util.HashMap<>(Map.of(
        "burst-size", Integer.toString(Integer.MAX_VALUE),
        "requests-per-minute", Integer.toString(Integer.MAX_VALUE),
        "requests-per-hour", Integer.toString(Integer.MAX_VALUE),
        "requests-per-day", Integer.toString(Integer.MAX_VALUE)));
    if (fields.equals("bare")) {
      params.put("rate-limit-headers", "none");
      params.put("process-id-header", "none");
    }
    HttpSettings settings = HttpSettings.fromMap(params);
    RequestGate.Builder b = RequestGate.builder().settings(settings);
    if (listener.equals("micrometer")) {
      dev.controltower.micrometer.ControlTowerMetrics metrics = new dev.controltower.micrometer.ControlTowerMetrics();
      metrics.bindTo(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
      b.rateLimiter(dev.controltower.resources.RateLimiter.builder().defaultConfig(settings.rateLimit())
          .maximumKeys(settings.maxKeys()).listener(metrics).build());
    }
    gate = b.build();
    key = gate.clientKey(null, noHeaders, "127.0.0.1");
  }

  /** A fresh address string per call, as a container hands it over. */
  @Benchmark
  public String clientKey() {
    return gate.clientKey(null, noHeaders, new String("127.0.0.1"));
  }

  @Benchmark
  public String endpoint() {
    return gate.endpoint("GET", "/hello", false);
  }

  @Benchmark
  public RateLimitDecision decide() {
    return gate.rateLimiter().decide(key, "default", true);
  }

  @Benchmark
  public boolean admitRelease() {
    Admission a = gate.admit(key, "default", null);
    return gate.release(a.process());
  }
}
