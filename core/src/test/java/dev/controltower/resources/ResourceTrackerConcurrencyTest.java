package dev.controltower.resources;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Concurrent recordings on one pid lose nothing; concurrent allocations of distinct pids all succeed. */
class ResourceTrackerConcurrencyTest {

  @Test
  void recordUsage_hundredThreadsOneCallEach_countsHundred() throws Exception {
    ResourceTracker tracker = ResourceTracker.create();
    tracker.allocate("p", ResourceQuota.defaults());
    runConcurrently(100, i -> tracker.recordUsage("p", 1, 0, 0, 0, 0));
    assertThat(tracker.getUsage("p").orElseThrow().llmCalls()).isEqualTo(100);
  }

  @Test
  void recordUsage_threadsHammerFreshPid_loseNoIncrementAndCreateItOnce() throws Exception {
    for (int rep = 0; rep < 200; rep++) {
      ResourceTracker tracker = ResourceTracker.create();
      runConcurrently(16, i -> {
        for (int k = 0; k < 250; k++) {
          tracker.recordUsage("fresh", 1, 2, 1, 10, 5);
          tracker.recordIterations("fresh", 1);
        }
        return null;
      });
      ResourceUsage usage = tracker.getUsage("fresh").orElseThrow();
      assertThat(usage.llmCalls()).as("rep %d", rep).isEqualTo(4_000);
      assertThat(usage.toolCalls()).isEqualTo(8_000);
      assertThat(usage.iterations()).isEqualTo(4_000);
      assertThat(usage.tokensIn()).isEqualTo(40_000);
      SystemUsage system = tracker.getSystemUsage();
      assertThat(system.totalProcesses()).isEqualTo(1);
      assertThat(system.systemLlmCalls()).isEqualTo(4_000);
      assertThat(system.systemTokensOut()).isEqualTo(20_000);
    }
  }

  @Test
  void allocate_tenThreadsDistinctPids_allSucceed() throws Exception {
    ResourceTracker tracker = ResourceTracker.create();
    List<Boolean> results = runConcurrently(10, i -> tracker.allocate("pid-" + i, ResourceQuota.defaults()));
    assertThat(results).hasSize(10).containsOnly(true);
    assertThat(tracker.getSystemUsage().activeProcesses()).isEqualTo(10);
  }

  @Test
  void allocate_threadsRaceOnOnePid_exactlyOneWins() throws Exception {
    for (int rep = 0; rep < 200; rep++) {
      ResourceTracker tracker = ResourceTracker.create();
      List<Boolean> results = runConcurrently(8, i -> tracker.allocate("same", ResourceQuota.defaults()));
      assertThat(results.stream().filter(b -> b).count()).isEqualTo(1);
      assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    }
  }

  interface Task<T> {
    T run(int index) throws Exception;
  }

  private static <T> List<T> runConcurrently(int threads, Task<T> task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        int index = i;
        futures.add(pool.submit(() -> {
          start.await();
          return task.run(index);
        }));
      }
      start.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> f : futures) {
        results.add(f.get());
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
