package dev.controltower.benchmarks;

import dev.controltower.micrometer.ControlTowerMetrics;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.spi.ControlTowerListener;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * The hot-key check of {@code CoreBenchmark.hotKey_controlTower} timed in the calling thread's CPU
 * time, not wall time: on a shared machine whose load average exceeds its cores, JMH's throughput
 * moves by 2x between rounds (the thread waits for a core), while CPU time per call stays within a few
 * percent. A check of the JMH ratio, not a replacement: no blackhole (the results are summed into a
 * field), one thread.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.controltower.benchmarks.ListenerCost none|adder|micrometer};
 * run each variant in its own JVM (so no call site sees another listener type), alternating. It prints
 * the minimum and the median of 5 measured repetitions of 20 million calls, after 3 warm-up ones.
 * {@code adder}: a listener whose onAdmitted is one {@code LongAdder.increment()}, the floor for any
 * listener that counts with an atomic instruction.
 */
public final class ListenerCost {
  private static long sink;

  private ListenerCost() {}

  public static void main(String[] args) {
    String variant = args.length > 0 ? args[0] : "none";
    LongAdder adder = new LongAdder();
    ControlTowerListener listener;
    switch (variant) {
      case "none" -> listener = null;
      case "adder" -> listener = new ControlTowerListener() {
        @Override
        public void onAdmitted(String endpoint, LimitType window) {
          adder.increment();
        }
      };
      case "micrometer" -> {
        ControlTowerMetrics metrics = new ControlTowerMetrics();
        metrics.bindTo(new SimpleMeterRegistry());
        listener = metrics;
      }
      default -> throw new IllegalArgumentException("variant must be none, adder or micrometer but was " + variant);
    }
    RateLimiter.Builder b = RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(Peers.HIGH_LIMIT, Peers.HIGH_LIMIT, Peers.HIGH_LIMIT, 0));
    RateLimiter limiter = (listener == null ? b : b.listener(listener)).build();
    String user = new String("user-42");
    String endpoint = new String("/api/v1/analyze");
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int n = 20_000_000;
    List<Double> measured = new ArrayList<>();
    for (int rep = 0; rep < 8; rep++) {
      long t0 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        sink += limiter.checkRateLimit(user, endpoint).remaining();
      }
      double nanos = (mx.getCurrentThreadCpuTime() - t0) / (double) n;
      if (rep >= 3) {
        measured.add(nanos);
      }
    }
    Collections.sort(measured);
    System.out.printf(Locale.ROOT, "%-10s min %5.1f  median %5.1f  ns of CPU per call  %s%n", variant, measured.get(0),
        measured.get(measured.size() / 2), sink == 42 ? "" : "");
  }
}
