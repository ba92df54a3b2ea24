package dev.controltower.resources.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.FakeClock;
import dev.controltower.spi.kit.ReferenceStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-memory store against the oracle, single-threaded, value for value, with everything
 * the SPI allows interleaved: random plans (and plan changes per pair), dry runs, reads, resetUser,
 * removeExpired, clock steps back and forward, costs near the limits and beyond a char per bucket.
 * Odd seeds let the store's clock (its idle expiry) follow and never step back; even seeds keep the
 * store's clock still (no expiry) so that the clock may step back: an idle expiry judged on a clock
 * that later steps back forgets counts that the never-expiring oracle keeps (see the review notes).
 * A failure is shrunk to a minimal scenario. -Dreview.seeds and -Dreview.events run more.
 */
class MemoryStoreOracleDifferentialTest {

  /** One step of a scenario. */
  record Op(int kind, long clock, long now, String user, String endpoint, WindowPlan plan, long cost) {
    @Override
    public String toString() {
      String[] names = {"acquire", "check", "read", "resetUser", "removeExpired"};
      return names[kind] + "(" + user + ", " + endpoint + ", " + plan + ", cost " + cost + ", now " + now
          + ", clock " + clock + ")";
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void store_randomEverything_matchesOracle(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] bucketChoices = {1, 4, 10, 25, 100, 1000};
    int buckets = bucketChoices[random.nextInt(bucketChoices.length)];
    boolean fixedClock = seed % 2 == 0;
    List<Op> ops = generate(random, buckets, Integer.getInteger("review.events", 30_000), seed % 3 == 0, fixedClock);
    String failure = run(ops, buckets);
    if (failure != null) {
      List<Op> small = shrink(ops, buckets);
      throw new AssertionError("buckets " + buckets + ", minimal scenario:\n" + join(small) + "\n" + run(small, buckets));
    }
  }

  static java.util.stream.LongStream seeds() {
    return java.util.stream.LongStream.rangeClosed(1, Long.getLong("review.seeds", 12));
  }

  static String join(List<Op> ops) {
    StringBuilder b = new StringBuilder();
    for (Op op : ops) {
      b.append(op).append('\n');
    }
    return b.toString();
  }

  static List<Op> shrink(List<Op> ops, int buckets) {
    List<Op> current = new ArrayList<>(ops);
    // cut after the failing step first
    int chunk = current.size() / 2;
    while (chunk >= 1) {
      boolean progress = false;
      for (int i = 0; i + chunk <= current.size(); ) {
        List<Op> candidate = new ArrayList<>(current.subList(0, i));
        candidate.addAll(current.subList(i + chunk, current.size()));
        if (run(candidate, buckets) != null) {
          current = candidate;
          progress = true;
        } else {
          i += chunk;
        }
      }
      if (!progress) {
        chunk /= 2;
      }
    }
    return current;
  }

  static List<Op> generate(SplittableRandom random, int buckets, int events, boolean big, boolean fixedClock) {
    List<WindowPlan> plans = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      plans.add(WindowPlan.of(big ? bigConfig(random) : randomConfig(random), buckets));
    }
    String[] users = {"u1", "u2", "\u0101x"};
    String[] endpoints = {"/a", "/b"};
    long clock = 1_700_000_000_000L + random.nextInt(10_000_000);
    List<Op> ops = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      clock += gap(random, buckets);
      if (fixedClock && random.nextInt(200) == 0) {
        clock -= random.nextInt(120_000); // the clock steps back
      }
      long now = clock + (random.nextInt(5) == 0 ? random.nextInt(21) - 10 : 0);
      long storeClock = fixedClock ? ops.isEmpty() ? clock : ops.get(0).clock() : clock;
      String user = users[random.nextInt(users.length)];
      String endpoint = endpoints[random.nextInt(endpoints.length)];
      WindowPlan plan = plans.get(random.nextInt(random.nextInt(10) == 0 ? plans.size() : 2));
      if (random.nextInt(500) == 0) {
        plans.set(random.nextInt(plans.size()), WindowPlan.of(big ? bigConfig(random) : randomConfig(random), buckets));
      }
      long cost = cost(random, plan);
      int k = random.nextInt(100);
      int kind = k < 80 ? 0 : k < 90 ? 1 : k < 97 ? 2 : k < 98 ? 3 : 4;
      ops.add(new Op(kind, storeClock, now, user, endpoint, plan, cost));
    }
    return ops;
  }

  /** Runs the scenario on both stores; the first difference, or null. */
  static String run(List<Op> ops, int buckets) {
    FakeClock clock = FakeClock.atMillis(ops.isEmpty() ? 0 : ops.get(0).clock());
    MemoryWindowStore store = new MemoryWindowStore(clock, 100_000, buckets);
    ReferenceStore oracle = new ReferenceStore();
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      clock.setMillis(op.clock());
      String a;
      String e;
      switch (op.kind()) {
        case 0 -> {
          a = str(store.acquire(op.user(), op.endpoint(), op.plan(), op.cost(), op.now()));
          e = str(oracle.acquire(op.user(), op.endpoint(), op.plan(), op.cost(), op.now()));
        }
        case 1 -> {
          a = str(store.check(op.user(), op.endpoint(), op.plan(), op.cost(), op.now()));
          e = str(oracle.check(op.user(), op.endpoint(), op.plan(), op.cost(), op.now()));
        }
        case 2 -> {
          a = str(store.read(op.user(), op.endpoint(), op.plan(), op.now()));
          e = str(oracle.read(op.user(), op.endpoint(), op.plan(), op.now()));
        }
        case 3 -> {
          // The memory store may have expired a quiet pair the oracle (which never expires) still holds.
          List<String> got = store.resetUser(op.user());
          List<String> want = oracle.resetUser(op.user());
          a = e = "";
          if (!want.containsAll(got)) {
            a = got.toString();
            e = want.toString();
          }
        }
        default -> {
          WindowPlan plan = op.plan();
          WindowStore.PlanSource source = (u, x) -> plan;
          store.removeExpired(source, op.now());
          oracle.removeExpired(source, op.now());
          a = e = "";
        }
      }
      if (!a.equals(e)) {
        return "step " + i + " " + op + ": expected " + e + " but was " + a;
      }
    }
    return null;
  }

  private static String tail(List<String> log) {
    return String.join("\n", log.subList(Math.max(0, log.size() - 25), log.size()));
  }

  private static List<String> sorted(List<String> l) {
    List<String> c = new ArrayList<>(l);
    c.sort(null);
    return c;
  }

  static String str(Outcome o) {
    return o.toString();
  }

  static String str(WindowReading r) {
    return Arrays.toString(r.counts()) + " " + Arrays.toString(r.resetMillis());
  }

  static RateLimitConfig randomConfig(SplittableRandom random) {
    int burst = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(8);
    int minute = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(40);
    int hour = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(200);
    int day = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(400);
    return new RateLimitConfig(minute, hour, day, burst);
  }

  /** Limits around and above 65,535, so that one bucket holds more than a char. */
  static RateLimitConfig bigConfig(SplittableRandom random) {
    int burst = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(100_000);
    int minute = random.nextInt(4) == 0 ? 0 : 60_000 + random.nextInt(20_000);
    int hour = random.nextInt(3) == 0 ? 0 : 65_000 + random.nextInt(200_000);
    int day = random.nextInt(3) == 0 ? 0 : random.nextBoolean() ? Integer.MAX_VALUE : 100_000 + random.nextInt(400_000);
    return new RateLimitConfig(minute, hour, day, burst);
  }

  static long cost(SplittableRandom random, WindowPlan plan) {
    int k = random.nextInt(20);
    if (k < 13) {
      return 1;
    }
    if (k < 17) {
      return 1 + random.nextInt(5);
    }
    if (k < 19 && plan.size() > 0) {
      long limit = plan.limit(random.nextInt(plan.size()));
      return Math.max(1, limit - 1 + random.nextInt(3));
    }
    if (random.nextInt(30) == 0) {
      return Long.MAX_VALUE;
    }
    return plan.size() > 0 && plan.limit(0) > 10_000 ? 1 + random.nextInt(40_000) : 1 + random.nextInt(50);
  }

  static long gap(SplittableRandom random, int buckets) {
    int k = random.nextInt(100);
    if (k < 25) {
      return 0;
    } else if (k < 55) {
      return random.nextInt(50);
    } else if (k < 80) {
      return random.nextInt(2_000);
    } else if (k < 95) {
      return random.nextInt(60_000);
    }
    return random.nextLong(5_000_000);
  }
}
