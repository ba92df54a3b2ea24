package dev.controltower.benchmarks;

import dev.controltower.redis.RedisWindowStore;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * The Redis store against Bucket4j's Lettuce proxy manager (compare-and-swap, its usual distributed
 * setup: one bucket per key with three bandwidths, minute, hour and day, expiring after write), on one
 * redis-server, one shared Lettuce connection each. Limits are high, so every check is an allowed one
 * (a refused hot key would measure our local refused-pair cache, not Redis). Prints, per scenario and
 * round, checks per second and p50 / p99 per check; then round trips per allowed check from
 * {@code INFO commandstats}, and the refused-pair cache's.
 *
 * <pre>java -cp benchmarks.jar dev.controltower.benchmarks.RedisBench redis://127.0.0.1:PORT SECONDS ROUNDS</pre>
 */
public final class RedisBench {
  private static final long HIGH = 1_000_000_000L;
  private static final int RANDOM_KEYS = 100_000;

  private RedisBench() {}

  /** One way of checking a (user, endpoint) pair; true when allowed. */
  @FunctionalInterface
  interface Checker {
    boolean check(String user, String endpoint);
  }

  record Result(String who, String scenario, int threads, double perSecond, double p50Micros, double p99Micros,
      long refused) {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    int seconds = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    RedisClient admin = RedisClient.create(uri);
    StatefulRedisConnection<String, String> adminConn = admin.connect();
    RedisCommands<String, String> redis = adminConn.sync();

    RedisWindowStore store = RedisWindowStore.builder().uri(uri).timeout(Duration.ofSeconds(1)).build();
    RateLimiter ours = RateLimiter.builder().defaultConfig(
        RateLimitConfig.builder().requestsPerMinute((int) HIGH).requestsPerHour((int) HIGH)
            .requestsPerDay((int) HIGH).build()).store(store).build();
    Checker controlTower = (u, e) -> ours.checkRateLimit(u, e).allowed();

    RedisClient b4jClient = RedisClient.create(uri);
    StatefulRedisConnection<byte[], byte[]> b4jConn = b4jClient.connect(ByteArrayCodec.INSTANCE);
    ProxyManager<byte[]> proxies = Bucket4jLettuce.casBasedBuilder(b4jConn)
        .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
        .build();
    BucketConfiguration b4jConfig = BucketConfiguration.builder()
        .addLimit(Bandwidth.builder().capacity(HIGH).refillGreedy(HIGH, Duration.ofMinutes(1)).build())
        .addLimit(Bandwidth.builder().capacity(HIGH).refillGreedy(HIGH, Duration.ofHours(1)).build())
        .addLimit(Bandwidth.builder().capacity(HIGH).refillGreedy(HIGH, Duration.ofDays(1)).build())
        .build();
    Supplier<BucketConfiguration> b4jSupplier = () -> b4jConfig;
    Checker bucket4j = (u, e) -> proxies.builder()
        .build((u + ":" + e).getBytes(StandardCharsets.UTF_8), b4jSupplier).tryConsume(1);

    Map<String, Checker> who = new LinkedHashMap<>();
    who.put("controltower", controlTower);
    who.put("bucket4j", bucket4j);
    String[][] scenarios = {{"hot", "1"}, {"hot", "2"}, {"hot", "16"}, {"random100k", "16"}};

    // Warm-up: every checker, every scenario, briefly.
    for (Map.Entry<String, Checker> w : who.entrySet()) {
      for (String[] s : scenarios) {
        run(w.getKey(), w.getValue(), s[0], Integer.parseInt(s[1]), 1);
      }
    }
    redis.flushall();

    Map<String, List<Result>> all = new TreeMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (String[] s : scenarios) {
        // Alternate who goes first, round by round, so that neither always runs on a warmer machine.
        List<String> order = round % 2 == 1 ? List.of("controltower", "bucket4j") : List.of("bucket4j", "controltower");
        for (String name : order) {
          Result r = run(name, who.get(name), s[0], Integer.parseInt(s[1]), seconds);
          System.out.printf("round %d %-12s %-10s threads=%2d %,10.0f checks/s  p50 %7.1f us  p99 %8.1f us  refused %d%n",
              round, r.who(), r.scenario(), r.threads(), r.perSecond(), r.p50Micros(), r.p99Micros(), r.refused());
          all.computeIfAbsent(s[0] + "/" + s[1] + "/" + name, k -> new java.util.ArrayList<>()).add(r);
        }
      }
    }
    System.out.println();
    System.out.println("medians over " + rounds + " rounds:");
    for (String[] s : scenarios) {
      Result a = median(all.get(s[0] + "/" + s[1] + "/controltower"));
      Result b = median(all.get(s[0] + "/" + s[1] + "/bucket4j"));
      System.out.printf("%-10s threads=%2d  controltower %,9.0f/s p50 %6.1f p99 %7.1f us | bucket4j %,9.0f/s p50 %6.1f p99 %7.1f us"
          + " | ratio %.2f%n", s[0], Integer.parseInt(s[1]), a.perSecond(), a.p50Micros(), a.p99Micros(), b.perSecond(),
          b.p50Micros(), b.p99Micros(), a.perSecond() / b.perSecond());
    }

    System.out.println();
    System.out.println("commands per allowed check (INFO, 10,000 checks on one thread); round trips are the commands"
        + " a client sends: evalsha for controltower, get + eval for bucket4j (the rest run inside the scripts):");
    for (Map.Entry<String, Checker> w : who.entrySet()) {
      for (String keys : new String[] {"hot", "random"}) {
        redis.configResetstat();
        long before = processed(redis);
        int n = 10_000;
        for (int i = 0; i < n; i++) {
          w.getValue().check(keys.equals("hot") ? "rt-hot" : "rt-" + w.getKey() + "-" + i, "/api");
        }
        long roundTrips = processed(redis) - before - 1; // less this connection's own INFO
        Map<String, Long> calls = commandCalls(redis.info("commandstats"));
        calls.remove("info");
        calls.remove("config|resetstat");
        System.out.printf("%-12s %-6s %.3f commands executed per check (total_commands_processed, which in Redis 7"
            + " also counts a script's own calls); commandstats: %s%n", w.getKey(), keys, (double) roundTrips / n, perCheck(calls, n));
      }
    }

    // A refused pair: once Redis has refused it, the local cache answers until its wait has passed.
    RateLimiter tight = RateLimiter.builder().defaultConfig(
        RateLimitConfig.builder().requestsPerMinute(1).requestsPerHour(0).requestsPerDay(0).build()).store(store).build();
    tight.checkRateLimit("refused-user", "/api");
    tight.checkRateLimit("refused-user", "/api"); // refused by Redis: one EVALSHA, then cached
    redis.configResetstat();
    int refusedChecks = 10_000;
    int allowed = 0;
    for (int i = 0; i < refusedChecks; i++) {
      allowed += tight.checkRateLimit("refused-user", "/api").allowed() ? 1 : 0;
    }
    Map<String, Long> calls = commandCalls(redis.info("commandstats"));
    System.out.printf("controltower refused pair in the local cache: %d checks, %d allowed, evalsha calls %d%n",
        refusedChecks, allowed, calls.getOrDefault("evalsha", 0L));
    System.out.println("controltower store counters: " + store.counters());

    store.close();
    b4jConn.close();
    b4jClient.shutdown();
    adminConn.close();
    admin.shutdown();
  }

  private static String perCheck(Map<String, Long> calls, int n) {
    StringBuilder b = new StringBuilder("(");
    calls.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(k).append(' ')
        .append(String.format("%.3f", (double) v / n)));
    return b.append(')').toString();
  }

  /** Commands sent by clients (a script's own calls are not counted here). */
  private static long processed(RedisCommands<String, String> redis) {
    for (String line : redis.info("stats").split("\r?\n")) {
      if (line.startsWith("total_commands_processed:")) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    throw new IllegalStateException("no total_commands_processed in INFO stats");
  }

  private static Map<String, Long> commandCalls(String info) {
    Map<String, Long> out = new TreeMap<>();
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("cmdstat_")) {
        String name = line.substring(8, line.indexOf(':'));
        int c = line.indexOf("calls=") + 6;
        out.put(name, Long.parseLong(line.substring(c, line.indexOf(',', c))));
      }
    }
    return out;
  }

  private static Result median(List<Result> rs) {
    Result[] sorted = rs.toArray(new Result[0]);
    Arrays.sort(sorted, (x, y) -> Double.compare(x.perSecond(), y.perSecond()));
    Result m = sorted[sorted.length / 2];
    double[] p50 = rs.stream().mapToDouble(Result::p50Micros).sorted().toArray();
    double[] p99 = rs.stream().mapToDouble(Result::p99Micros).sorted().toArray();
    return new Result(m.who(), m.scenario(), m.threads(), m.perSecond(), p50[p50.length / 2], p99[p99.length / 2],
        m.refused());
  }

  private static Result run(String name, Checker checker, String scenario, int threads, int seconds)
      throws InterruptedException {
    long[][] samples = new long[threads][];
    int[] counts = new int[threads];
    long[] refused = new long[threads];
    CountDownLatch start = new CountDownLatch(1);
    long durationNanos = seconds * 1_000_000_000L;
    Thread[] ts = new Thread[threads];
    String hotUser = "hot-" + name + "-" + System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int id = t;
      samples[t] = new long[1 << 20];
      ts[t] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long[] mine = samples[id];
        int n = 0;
        long end = System.nanoTime() + durationNanos;
        long now = System.nanoTime();
        while (now < end) {
          String user = scenario.equals("hot") ? hotUser : "u" + random.nextInt(RANDOM_KEYS);
          boolean ok = checker.check(user, "/api");
          long after = System.nanoTime();
          if (n < mine.length) {
            mine[n] = after - now;
          }
          n++;
          if (!ok) {
            refused[id]++;
          }
          now = after;
        }
        counts[id] = n;
      }, "bench-" + t);
      ts[t].start();
    }
    long t0 = System.nanoTime();
    start.countDown();
    for (Thread t : ts) {
      t.join();
    }
    double elapsed = (System.nanoTime() - t0) / 1e9;
    long total = 0;
    int kept = 0;
    for (int t = 0; t < threads; t++) {
      total += counts[t];
      kept += Math.min(counts[t], samples[t].length);
    }
    long[] all = new long[kept];
    int at = 0;
    for (int t = 0; t < threads; t++) {
      int k = Math.min(counts[t], samples[t].length);
      System.arraycopy(samples[t], 0, all, at, k);
      at += k;
    }
    Arrays.sort(all);
    long refusedTotal = Arrays.stream(refused).sum();
    return new Result(name, scenario, threads, total / elapsed, all[(int) (all.length * 0.50)] / 1e3,
        all[Math.min(all.length - 1, (int) (all.length * 0.99))] / 1e3, refusedTotal);
  }
}
