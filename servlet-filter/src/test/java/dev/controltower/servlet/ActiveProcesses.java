package dev.controltower.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.ResourceTracker;
import java.time.Duration;

/** Waiting, bounded, for a tracker to hold no pid. */
final class ActiveProcesses {
  private ActiveProcesses() {}

  /**
   * Waits up to {@code limit} for {@code tracker} to have no active process, then asserts it has none.
   * Async completions run on container threads after the client has its response, hence the wait.
   */
  static void awaitNone(ResourceTracker tracker, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (tracker.getSystemUsage().activeProcesses() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }
}
