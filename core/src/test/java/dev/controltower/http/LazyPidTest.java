package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.kit.FakeClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code process-id-header=none}: no header names the pid, so the tracker sees a process only at its
 * first use (issue 14, item 6), and then as if it had been tracked since its admission.
 */
class LazyPidTest {
  private final FakeClock clock = FakeClock.atMillis(100_000);
  private final RateLimiter limiter = RateLimiter.builder()
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(100).maxConcurrentRequests(1).build())
      .clock(clock).build();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
  private final List<Long> ended = new ArrayList<>();

  private RequestGate gate(String pidHeader, int timeoutSeconds) {
    AtomicInteger n = new AtomicInteger();
    ControlTowerListener durations = new ControlTowerListener() {
      @Override
      public void onProcessEnded(String endpoint, long durationNanos) {
        ended.add(durationNanos);
      }
    };
    return RequestGate.builder()
        .settings(HttpSettings.fromMap(Map.of("process-id-header", pidHeader, "timeout-seconds",
            Integer.toString(timeoutSeconds), "max-tool-calls", "1000")))
        .rateLimiter(limiter).resourceTracker(tracker).listener(durations)
        .pidSource(() -> "pid-" + n.incrementAndGet()).build();
  }

  @Test
  void admit_pidHeaderNone_tracksNothingUntilFirstUse_thenReleasesIt() {
    RequestGate gate = gate("none", 300);
    Admission a = gate.admit("user:alice", "default", null);

    assertThat(a.admitted()).isTrue();
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    a.process().recordToolCall();
    assertThat(tracker.getSystemUsage().activeProcesses()).isEqualTo(1);
    assertThat(tracker.isTracked(a.process().pid())).isTrue();
    assertThat(a.process().pid()).isEqualTo("pid-1");

    assertThat(gate.release(a.process())).isTrue();
    assertThat(tracker.isTracked("pid-1")).isFalse();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void admit_pidHeaderSet_tracksAtOnce() {
    Admission a = gate("X-Process-Id", 300).admit("user:alice", "default", null);

    assertThat(tracker.getSystemUsage().activeProcesses()).isEqualTo(1);
    assertThat(a.headers()).contains(new HeaderField("X-Process-Id", "pid-1"));
  }

  @Test
  void firstUseLate_timeoutCountsFromAdmission() {
    Admission a = gate("none", 10).admit("user:alice", "default", null);
    clock.advanceMillis(11_000);

    assertThatThrownBy(() -> a.process().recordToolCall()).isInstanceOfSatisfying(QuotaExceededException.class,
        e -> assertThat(e.violation()).isEqualTo(QuotaViolation.TIMEOUT_EXCEEDED));
    assertThat(a.process().usage().orElseThrow().elapsedSeconds()).isEqualTo(11.0);
  }

  @Test
  void untouchedProcess_releaseReturnsThePermitAndReportsItsDuration_andTracksNothing() {
    RequestGate gate = gate("none", 300);
    Admission first = gate.admit("user:alice", "default", null);
    assertThat(gate.admit("user:alice", "default", null).admitted()).as("one concurrent request").isFalse();
    clock.advanceMillis(2_500);

    assertThat(gate.release(first.process())).isTrue();
    assertThat(gate.release(first.process())).as("only the first release releases").isFalse();

    assertThat(ended).containsExactly(2_500_000_000L);
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
    assertThat(gate.admit("user:alice", "default", null).admitted()).as("the slot came back").isTrue();
    String pid = first.process().pid();
    assertThat(pid).as("a pid read after the release is never tracked").isNotNull();
    assertThat(tracker.isTracked(pid)).isFalse();
    assertThatThrownBy(() -> first.process().recordToolCall()).isInstanceOf(IllegalStateException.class);
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
  }

  @Test
  void racingFirstUses_trackOnePid() throws Exception {
    Admission a = gate("none", 300).admit("user:alice", "default", null);
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 100; i++) {
          a.process().recordToolCall();
        }
      });
      threads.add(thread);
      thread.start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }

    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    assertThat(a.process().usage().orElseThrow().toolCalls()).isEqualTo(400);
  }

  /**
   * The pid source may repeat itself ({@link RequestGate.Builder#pidSource}): the id that a process
   * released untouched reads afterwards must not be the pid of another request that is still live
   * (an application that passes it to the tracker would read or change that request's process).
   */
  @Test
  void untouchedProcess_pidReadAfterRelease_isNeverALiveProcessOfAnotherRequest() {
    java.util.Iterator<String> source = List.of("pid-a", "pid-a", "pid-b", "pid-c").iterator();
    RequestGate gate = RequestGate.builder()
        .settings(HttpSettings.fromMap(Map.of("process-id-header", "none")))
        .rateLimiter(RateLimiter.builder().defaultConfig(RateLimitConfig.builder().requestsPerMinute(100).build())
            .clock(clock).build())
        .resourceTracker(tracker).pidSource(source::next).build();
    Admission live = gate.admit("user:alice", "default", null);
    live.process().recordToolCall();
    Admission untouched = gate.admit("user:bob", "default", null);
    gate.release(untouched.process());

    String pid = untouched.process().pid();

    assertThat(pid).isNotEqualTo(live.process().pid());
    assertThat(tracker.isTracked(pid)).isFalse();
  }

  /**
   * With {@code trust-request-id}, an {@code X-Request-Id} that is not well-formed is not the pid, so it
   * must not make the gate track one at admission: the request still costs no pid until its first use.
   */
  @Test
  void trustRequestId_malformedRequestId_tracksNothingUntilFirstUse() {
    RequestGate gate = RequestGate.builder()
        .settings(HttpSettings.fromMap(Map.of("process-id-header", "none", "trust-request-id", "true")))
        .rateLimiter(RateLimiter.builder().defaultConfig(RateLimitConfig.builder().requestsPerMinute(100).build())
            .clock(clock).build())
        .resourceTracker(tracker).build();

    Admission malformed = gate.admit("user:alice", "default", "not a request id!");
    assertThat(tracker.getSystemUsage().totalProcesses()).isZero();
    gate.release(malformed.process());

    Admission trusted = gate.admit("user:alice", "default", "req-1");
    assertThat(tracker.isTracked("req-1")).as("a trusted, well-formed id is tracked at admission").isTrue();
    gate.release(trusted.process());
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }
}
