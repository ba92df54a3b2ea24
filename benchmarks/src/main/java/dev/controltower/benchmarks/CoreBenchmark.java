package dev.controltower.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.google.common.util.concurrent.RateLimiter;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The kit's hot path beside its peers, all on the allow path. Run with {@code -t 1} and {@code -t 2}.
 *
 * <p>Names sort into groups: {@code hotKey_*} is one (user, endpoint) pair, {@code randomKey_*} draws
 * one of 100,000 pairs at random per call (the pairs are built in setup, outside the measured code),
 * and {@code single_*} are limiters without any per-key lookup.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class CoreBenchmark {
  static final int KEY_COUNT = 100_000;

  /** Everything the benchmarks share: built once per fork. */
  @State(Scope.Benchmark)
  public static class Shared {
    final String hotUser = new String("user-42");
    final String hotEndpoint = new String("/api/v1/analyze");

    dev.controltower.resources.RateLimiter controlTower;
    Cache<String, Bucket> bucket4jCache;
    Cache<String, Object> bareCaffeine;
    Keys keys;

    Bucket rawBucket;
    AtomicRateLimiter resilience4j;
    RateLimiter guava;
    ResourceTracker tracker;
    ResourceQuota quota;

    @Setup(Level.Trial)
    public void setUp() {
      controlTower = Peers.controlTower();
      bucket4jCache = Peers.bucket4jCache();
      bareCaffeine = Peers.bareCaffeine();
      keys = new Keys(KEY_COUNT, 42);
      Object present = new Object();
      for (int i = 0; i < keys.size(); i++) {
        controlTower.checkRateLimit(keys.users[i], keys.endpoints[i]);
        Peers.bucket4jCheck(bucket4jCache, keys.users[i], keys.endpoints[i]);
        bareCaffeine.put(keys.joined[i], present);
      }
      controlTower.checkRateLimit(hotUser, hotEndpoint);
      Peers.bucket4jCheck(bucket4jCache, hotUser, hotEndpoint);

      rawBucket = Peers.bucket4jBucket();
      resilience4j = new AtomicRateLimiter("bench", RateLimiterConfig.custom()
          .limitForPeriod(Peers.HIGH_LIMIT)
          .limitRefreshPeriod(Duration.ofMinutes(1))
          .timeoutDuration(Duration.ZERO)
          .build());
      guava = RateLimiter.create(1e12);
      tracker = ResourceTracker.create();
      quota = ResourceQuota.defaults();
    }
  }

  /** Per-thread state: a random stream of key indexes and a pid of the thread's own. */
  @State(Scope.Thread)
  public static class PerThread {
    private static final AtomicInteger THREADS = new AtomicInteger();
    private long seed;
    String pid;

    @Setup(Level.Trial)
    public void setUp() {
      int n = THREADS.incrementAndGet();
      seed = 0x9E3779B97F4A7C15L * n;
      pid = "pid-" + n;
    }

    /** A xorshift step: uniform enough, and far cheaper than anything measured. */
    int nextIndex() {
      long x = seed;
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      seed = x;
      return (int) ((x >>> 1) % KEY_COUNT);
    }
  }

  @Benchmark
  public RateLimitResult hotKey_controlTower(Shared s) {
    return s.controlTower.checkRateLimit(s.hotUser, s.hotEndpoint);
  }

  /**
   * The hot pair on a limiter whose listener is the Micrometer binding ({@code ControlTowerMetrics} on a
   * {@code SimpleMeterRegistry}): every decision also increments its cached counter. Its own state, so
   * that the forks of the other rows never load the binding, and their listener call site sees
   * {@code NOOP} only.
   */
  @Benchmark
  public RateLimitResult hotKey_controlTowerMicrometer(Metered m, Shared s) {
    return m.limiter.checkRateLimit(s.hotUser, s.hotEndpoint);
  }

  /**
   * The floor of any listener that counts per thread without an atomic instruction: one lookup of a
   * static {@link ThreadLocal} and one array increment per decision, nothing else. The Micrometer
   * binding does that plus its endpoint and registration checks.
   */
  @Benchmark
  public RateLimitResult hotKey_controlTowerCountingFloor(CountingFloor m, Shared s) {
    return m.limiter.checkRateLimit(s.hotUser, s.hotEndpoint);
  }

  /** A limiter like {@link Shared#controlTower} whose listener is the counting floor. */
  @State(Scope.Benchmark)
  public static class CountingFloor {
    private static final ThreadLocal<long[]> COUNTS = ThreadLocal.withInitial(() -> new long[64]);
    dev.controltower.resources.RateLimiter limiter;

    @Setup(Level.Trial)
    public void setUp(Shared s) {
      limiter = Peers.controlTower(new dev.controltower.spi.ControlTowerListener() {
        @Override
        public void onAdmitted(String endpoint, dev.controltower.resources.LimitType window) {
          COUNTS.get()[window == null ? 0 : window.ordinal() + 1]++;
        }
      });
      limiter.checkRateLimit(s.hotUser, s.hotEndpoint);
    }
  }

  /** A limiter like {@link Shared#controlTower}, reporting to the Micrometer binding. */
  @State(Scope.Benchmark)
  public static class Metered {
    dev.controltower.resources.RateLimiter limiter;
    io.micrometer.core.instrument.MeterRegistry registry;

    @Setup(Level.Trial)
    public void setUp(Shared s) {
      registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
      dev.controltower.micrometer.ControlTowerMetrics metrics = new dev.controltower.micrometer.ControlTowerMetrics();
      metrics.bindTo(registry);
      limiter = Peers.controlTower(metrics);
      limiter.checkRateLimit(s.hotUser, s.hotEndpoint);
    }
  }

  @Benchmark
  public boolean hotKey_bucket4jCaffeine(Shared s) {
    return Peers.bucket4jCheck(s.bucket4jCache, s.hotUser, s.hotEndpoint);
  }

  /**
   * A weighted check (tokens, say) of {@value #COST} on the hot pair, against Bucket4j's
   * {@code tryConsume(n)}. Small enough that neither limit (2^31 - 1 per window) fills within a fork.
   */
  static final long COST = 3;

  @Benchmark
  public RateLimitResult hotKeyWeighted_controlTower(Shared s) {
    return s.controlTower.checkRateLimit(s.hotUser, s.hotEndpoint, COST);
  }

  @Benchmark
  public boolean hotKeyWeighted_bucket4jCaffeine(Shared s) {
    return Peers.bucket4jCheck(s.bucket4jCache, s.hotUser, s.hotEndpoint, COST);
  }

  @Benchmark
  public RateLimitResult randomKey_controlTower(Shared s, PerThread t) {
    int i = t.nextIndex();
    return s.controlTower.checkRateLimit(s.keys.users[i], s.keys.endpoints[i]);
  }

  @Benchmark
  public boolean randomKey_bucket4jCaffeine(Shared s, PerThread t) {
    int i = t.nextIndex();
    return Peers.bucket4jCheck(s.bucket4jCache, s.keys.users[i], s.keys.endpoints[i]);
  }

  /** The floor: a Caffeine lookup of a prebuilt key, no limiting at all. */
  @Benchmark
  public Object randomKey_bareCaffeineGet(Shared s, PerThread t) {
    int i = t.nextIndex();
    return s.bareCaffeine.getIfPresent(s.keys.joined[i]);
  }

  @Benchmark
  public boolean single_bucket4jBucket(Shared s) {
    return s.rawBucket.tryConsume(1);
  }

  @Benchmark
  public boolean single_resilience4jAtomic(Shared s) {
    return s.resilience4j.acquirePermission();
  }

  @Benchmark
  public boolean single_guava(Shared s) {
    return s.guava.tryAcquire();
  }

  /** One request's life in the tracker: allocate, record, check, release. */
  @Benchmark
  public Optional<?> tracker_cycle(Shared s, PerThread t) {
    s.tracker.allocate(t.pid, s.quota);
    s.tracker.recordUsage(t.pid, 1, 2, 1, 100, 50);
    Optional<?> violation = s.tracker.checkQuota(t.pid);
    s.tracker.release(t.pid);
    return violation;
  }
}
