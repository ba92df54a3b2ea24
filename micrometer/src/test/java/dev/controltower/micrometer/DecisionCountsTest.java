package dev.controltower.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
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

  @Test
  void oneThreadCountingForTwoBindingsInTurn_countsEachExactly() {
    SimpleMeterRegistry first = new SimpleMeterRegistry();
    SimpleMeterRegistry second = new SimpleMeterRegistry();
    ControlTowerMetrics a = new ControlTowerMetrics();
    ControlTowerMetrics b = new ControlTowerMetrics();
    a.bindTo(first);
    b.bindTo(second);
    for (int i = 0; i < 1_000; i++) {
      a.onAdmitted("/x", LimitType.MINUTE);
      // an equal endpoint that is another string each time, and a window that changes
      b.onAdmitted(new String("/x"), i % 2 == 0 ? LimitType.MINUTE : LimitType.HOUR);
      b.onRejected("/y", LimitType.DAY);
    }

    assertThat(count(first, "/x", "admitted", "minute")).isEqualTo(1_000.0);
    assertThat(count(second, "/x", "admitted", "minute")).isEqualTo(500.0);
    assertThat(count(second, "/x", "admitted", "hour")).isEqualTo(500.0);
    assertThat(count(second, "/y", "rejected", "day")).isEqualTo(1_000.0);
    assertThat(first.find(ControlTowerMetrics.REQUESTS).tag("endpoint", "/y").functionCounter()).isNull();
  }

  /**
   * A reader that is descheduled between reading a thread's cell array and seeing the thread dead: the
   * thread meanwhile grew its array (a new endpoint), counted in the new one, and ended. The fold must
   * take the array the thread left, not the one read before.
   */
  @Test
  void sum_aThreadGrowsItsCellsAndEndsWhileTheReadLooksAtIt_losesNoCount() throws Exception {
    CountDownLatch counted = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    Thread[] owner = new Thread[1];
    DecisionCounts counts = new DecisionCounts(256, t -> {
      if (t == owner[0] && resume.getCount() > 0) {
        resume.countDown(); // the reader is "descheduled" here: the owner grows, counts and ends
        try {
          t.join();
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
      }
      return t.isAlive();
    });
    owner[0] = new Thread(() -> {
      DecisionCounts.Cells cells = counts.cells();
      counts.increment(cells, 0);
      counted.countDown();
      try {
        resume.await();
      } catch (InterruptedException e) {
        return;
      }
      counts.increment(cells, 200); // past the first array (64 cells): grows it
      counts.increment(cells, 0);
    });
    owner[0].start();
    counted.await();

    assertThat(counts.sum(0)).isEqualTo(2);
    assertThat(counts.sum(200)).isEqualTo(1);
    assertThat(counts.sum(0)).as("read again, from the folded counts").isEqualTo(2);
  }

  /**
   * A container's threads outlive a web application: what they keep in their thread-local maps must
   * not keep its counters (and so its class loader) alive once it is dropped.
   */
  @Test
  void aDroppedBinding_isNotKeptAliveByAThreadThatCountedForIt() throws Exception {
    WeakReference<ControlTowerMetrics> dropped = countOnThisThreadAndDrop();
    for (int i = 0; i < 50 && dropped.get() != null; i++) {
      System.gc();
      Thread.sleep(20);
    }

    assertThat(dropped.get()).as("the binding, after this (still running) thread counted for it").isNull();
    ControlTowerMetrics next = new ControlTowerMetrics();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    next.bindTo(registry);
    next.onAdmitted("/a", LimitType.MINUTE);
    assertThat(count(registry, "/a", "admitted", "minute")).as("this thread counts for a new binding").isEqualTo(1.0);
  }

  private static WeakReference<ControlTowerMetrics> countOnThisThreadAndDrop() {
    ControlTowerMetrics metrics = new ControlTowerMetrics();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    metrics.bindTo(registry);
    metrics.onAdmitted("/a", LimitType.MINUTE);
    metrics.onRejected("/b", LimitType.HOUR);
    assertThat(count(registry, "/a", "admitted", "minute")).isEqualTo(1.0);
    return new WeakReference<>(metrics);
  }

  private static double count(SimpleMeterRegistry registry, String endpoint, String outcome, String window) {
    return registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", endpoint).tag("outcome", outcome)
        .tag("window", window).functionCounter().count();
  }

  /** Thread churn (a pool that renews threads, or short-lived threads) with no scrape between. */
  @Test
  void manyShortLivedThreadsWithoutARead_keepAboutAsManyCellsAsThreadsAlive() throws Exception {
    DecisionCounts counts = new DecisionCounts(64);
    for (int i = 0; i < 1_000; i++) {
      Thread t = new Thread(() -> counts.increment(counts.cells(), 3));
      t.start();
      t.join();
    }

    assertThat(counts.cellsKept()).as("cells kept after 1,000 threads that ended, one at a time").isLessThanOrEqualTo(1);
    assertThat(counts.sum(3)).isEqualTo(1_000);
    assertThat(counts.cellsKept()).isZero();
  }
}
