package dev.controltower.resources.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.kit.FakeClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The burst window's safety bound under threads with jittered clocks over many windows, with the burst
 * window appearing and disappearing between plans: admissions under plans with the burst window never
 * exceed its limit in any span of W - 2 jitter of their nominal times.
 */
class MemoryStoreBurstSafetyStressTest {
  private static final long T0 = 1_700_000_000_000L;

  @ParameterizedTest(name = "buckets={0} jitter={1}")
  @CsvSource({"1,0", "10,2", "100,3", "1000,0", "1000,3", "4,1", "25,2"})
  void burst_manyThreadsManyWindows_holdsTheBound(int buckets, int jitter) throws Exception {
    int limit = 20;
    WindowPlan withBurst = WindowPlan.of(new RateLimitConfig(1_000_000, 0, 0, limit), buckets);
    WindowPlan without = WindowPlan.of(new RateLimitConfig(1_000_000, 0, 0, 0), buckets);
    WindowPlan withBurstHour = WindowPlan.of(new RateLimitConfig(0, 2_000_000, 0, limit), buckets);
    WindowPlan[] plans = {withBurst, without, withBurstHour};
    MemoryWindowStore store = new MemoryWindowStore(FakeClock.atMillis(T0), 1_000, buckets);
    AtomicLong time = new AtomicLong(T0);
    int threads = 6;
    List<long[]> admissions = Collections.synchronizedList(new ArrayList<>());
    List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
    SplittableRandom steps = new SplittableRandom(buckets);
    // Phases: every thread works at times in [time, time + 2 jitter] while the shared time stands
    // still, then the time moves on, so that a nominal time and the time the store recorded the
    // admission at differ by at most 2 jitter.
    CyclicBarrier phase = new CyclicBarrier(threads, () -> time.addAndGet(steps.nextInt(60)));
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long seed = 1000L * buckets + t;
      workers.add(new Thread(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        try {
          for (int p = 0; p < 3_000; p++) {
            phase.await();
            long base = time.get();
            for (int i = 0; i < 10; i++) {
              long now = base + (jitter == 0 ? 0 : random.nextInt(2 * jitter + 1));
              WindowPlan plan = plans[random.nextInt(10) == 0 ? 1 : random.nextInt(10) == 0 ? 2 : 0];
              long cost = random.nextInt(5) == 0 ? 1 + random.nextInt(3) : 1;
              Outcome o = store.acquire("u", "/e", plan, cost, now);
              if (o.admitted() && plan != without) {
                admissions.add(new long[] {now, cost});
              }
            }
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }));
    }
    workers.forEach(Thread::start);
    for (Thread w : workers) {
      w.join();
    }
    assertThat(errors).isEmpty();
    List<long[]> sorted = new ArrayList<>(admissions);
    sorted.sort(Comparator.comparingLong(a -> a[0]));
    assertThat(sorted.size()).isGreaterThan(1000);
    // Span of nominal time: W minus twice the jitter minus what the shared time moves during one call.
    SlidingWindowBound.assertNoIntervalAdmitsMoreThan(sorted, limit, 1000 - 2L * jitter, "burst");
  }

  /** For every admission time t, the cost admitted in [t, t + span) is at most {@code limit}. */
  static final class SlidingWindowBound {
    static void assertNoIntervalAdmitsMoreThan(List<long[]> admissions, long limit, long span, String what) {
      int end = 0;
      long sum = 0;
      for (int start = 0; start < admissions.size(); start++) {
        long from = admissions.get(start)[0];
        while (end < admissions.size() && admissions.get(end)[0] < from + span) {
          sum += admissions.get(end)[1];
          end++;
        }
        if (sum > limit) {
          throw new AssertionError(what + ": cost " + sum + " admitted in [" + from + ", " + (from + span)
              + "), limit " + limit);
        }
        sum -= admissions.get(start)[1];
      }
    }
  }
}
