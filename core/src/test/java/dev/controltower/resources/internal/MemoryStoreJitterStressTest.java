package dev.controltower.resources.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.kit.FakeClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Many threads on one pair, mixed costs, plans switching under traffic (with and without a burst
 * window), dry runs and reads interleaved, each thread's now jittered around a shared fake time that
 * crosses bucket boundaries but stays inside one minute: the minute and hour windows end up counting
 * exactly the cost admitted (nothing lost, nothing invented), and with one plan no more than its limit.
 */
class MemoryStoreJitterStressTest {
  private static final long T0 = 1_700_000_000_000L;

  @ParameterizedTest(name = "buckets={0} plans={1} jitter={2}")
  @CsvSource({"1,1,0", "10,1,3", "100,1,5", "1000,1,2", "4,3,3", "25,3,0", "1000,3,4", "10,3,10"})
  void onePair_manyThreads_countsExactlyWhatWasAdmitted(int buckets, int planCount, int jitter) throws Exception {
    SplittableRandom seeds = new SplittableRandom(buckets * 31L + planCount);
    WindowPlan[] plans = new WindowPlan[planCount];
    for (int i = 0; i < planCount; i++) {
      int burst = i % 2 == 0 ? 0 : 50 + seeds.nextInt(200);
      plans[i] = WindowPlan.of(new RateLimitConfig(2_000 + seeds.nextInt(3_000), 100_000, 0, burst), buckets);
    }
    FakeClock storeClock = FakeClock.atMillis(T0); // still: no idle expiry during the run
    MemoryWindowStore store = new MemoryWindowStore(storeClock, 1_000, buckets);
    AtomicLong time = new AtomicLong(T0);
    AtomicLong admitted = new AtomicLong();
    int threads = 8;
    int perThread = 30_000;
    List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long seed = seeds.nextLong();
      workers.add(new Thread(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        try {
          start.await();
          for (int i = 0; i < perThread; i++) {
            if (random.nextInt(64) == 0) {
              time.addAndGet(random.nextInt(15)); // about 28 s in all: inside one minute
            }
            long now = time.get() + (jitter == 0 ? 0 : random.nextInt(2 * jitter + 1) - jitter);
            WindowPlan plan = plans[random.nextInt(planCount)];
            long cost = random.nextInt(4) == 0 ? 1 + random.nextInt(30) : 1;
            int kind = random.nextInt(40);
            if (kind == 0) {
              store.read("u", "/e", plan, now);
              continue;
            }
            boolean dry = kind == 1;
            Outcome o = dry ? store.check("u", "/e", plan, cost, now) : store.acquire("u", "/e", plan, cost, now);
            if (o.admitted()) {
              assertThat(o.tightestCount()).as("%s", o).isLessThanOrEqualTo(plan.limit(o.tightest()));
              assertThat(o.remaining()).as("%s", o).isGreaterThanOrEqualTo(0);
              if (!dry) {
                admitted.addAndGet(cost);
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
    long end = time.get() + jitter + 1;
    WindowReading r = store.read("u", "/e", plans[0], end);
    // plans[0]: minute, hour (no burst)
    assertThat(r.counts()[0]).as("minute").isEqualTo(admitted.get());
    assertThat(r.counts()[1]).as("hour").isEqualTo(admitted.get());
    long maxMinute = 0;
    for (WindowPlan p : plans) {
      maxMinute = Math.max(maxMinute, p.limitOf(dev.controltower.resources.LimitType.MINUTE));
    }
    assertThat(admitted.get()).isLessThanOrEqualTo(maxMinute);
    if (planCount == 1) {
      assertThat(admitted.get()).isEqualTo(plans[0].limitOf(dev.controltower.resources.LimitType.MINUTE))
          .as("one plan: filled exactly to the limit");
    }
  }
}
