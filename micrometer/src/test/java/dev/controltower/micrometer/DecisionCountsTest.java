package dev.controltower.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The thread-striped request counters: exact under concurrency, monotonic, kept after threads end. */
class DecisionCountsTest {
  private static final int THREADS = 4;
  private static final int PER_THREAD = 200_000;

  @Test
  void onAdmitted_fromThreadsThatThenEnd_sumsExactlyAndNeverGoesBack() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ControlTowerMetrics metrics = new ControlTowerMetrics();
    metrics.bindTo(registry);
    metrics.onAdmitted("/a", LimitType.MINUTE); // registers the series before the race
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      String own = "/own-" + t;
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < PER_THREAD; i++) {
          metrics.onAdmitted("/a", LimitType.MINUTE);
          metrics.onRejected(i % 2 == 0 ? own : "/a", LimitType.HOUR);
        }
      });
      threads.add(thread);
      thread.start();
    }
    FunctionCounter shared = registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "/a")
        .tag("outcome", "admitted").functionCounter();
    start.countDown();
    double previous = 0;
    while (threads.stream().anyMatch(Thread::isAlive)) {
      double now = shared.count();
      assertThat(now).as("a read never goes back").isGreaterThanOrEqualTo(previous);
      previous = now;
    }
    for (Thread t : threads) {
      t.join();
    }

    assertThat(shared.count()).isEqualTo(1.0 + THREADS * PER_THREAD);
    assertThat(shared.count()).as("read again, after the dead threads' cells were folded")
        .isEqualTo(1.0 + THREADS * PER_THREAD);
    assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "/a").tag("outcome", "rejected")
        .functionCounter().count()).isEqualTo(THREADS * PER_THREAD / 2.0);
    for (int t = 0; t < THREADS; t++) {
      assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "/own-" + t).functionCounter().count())
          .isEqualTo(PER_THREAD / 2.0);
    }
  }
}
