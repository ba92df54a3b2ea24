package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.RecordingLogger;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.kit.FakeClock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The events the limiter and the gate report, one per decision, and what a failing listener costs. */
class ListenerEventsTest {
  private final FakeClock clock = FakeClock.atMillis(100_000);
  private final Recording events = new Recording();

  /** Keeps every event as a line of text. */
  static final class Recording implements ControlTowerListener {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public void onAdmitted(String endpoint, LimitType window) {
      lines.add("admitted " + endpoint + " " + (window == null ? "none" : window.wireName()));
    }

    @Override
    public void onRejected(String endpoint, LimitType window) {
      lines.add("rejected " + endpoint + " " + window.wireName());
    }

    @Override
    public void onQuotaViolation(String endpoint, QuotaViolation violation) {
      lines.add("violation " + endpoint + " " + violation.code());
    }

    @Override
    public void onProcessStarted(String endpoint) {
      lines.add("started " + endpoint);
    }

    @Override
    public void onProcessEnded(String endpoint, long durationNanos) {
      lines.add("ended " + endpoint + " " + durationNanos);
    }
  }

  private RateLimiter limiter(ControlTowerListener listener) {
    return RateLimiter.builder().clock(clock).listener(listener)
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(100).requestsPerDay(1000).build())
        .build();
  }

  @Test
  void checkRateLimit_recordedAndDryRuns_reportsEachRecordedDecisionOnceWithItsWindow() {
    RateLimiter limiter = limiter(events);
    limiter.setEndpointLimits("/hourly", RateLimitConfig.builder().requestsPerMinute(0).requestsPerHour(1).requestsPerDay(0).build());
    limiter.setEndpointLimits("/open", RateLimitConfig.builder().requestsPerMinute(0).requestsPerHour(0).requestsPerDay(0).build());

    for (int i = 0; i < 4; i++) {
      limiter.checkRateLimit("user:a", "/x");
    }
    limiter.checkRateLimit("user:a", "/x", false);          // dry run: not a decision
    limiter.decide("user:b", "/x", false);                  // dry run
    limiter.decide("user:b", "/x", true);
    limiter.checkRateLimit("user:b", "/x", 5L);             // weighted, can never fit the minute
    limiter.checkRateLimit("user:a", "/hourly");
    limiter.checkRateLimit("user:a", "/hourly");
    limiter.checkRateLimit("user:a", "/open");

    assertThat(events.lines).containsExactly(
        "admitted /x minute", "admitted /x minute", "admitted /x minute", "rejected /x minute",
        "admitted /x minute", "rejected /x minute",
        "admitted /hourly hour", "rejected /hourly hour",
        "admitted /open none");
  }

  @Test
  void admitAndRelease_withTrackerClock_reportsProcessWithItsDurationAndFirstViolationOnce() {
    RateLimiter limiter = limiter(events);
    ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
    RequestGate gate = RequestGate.builder().rateLimiter(limiter).resourceTracker(tracker)
        .settings(HttpSettings.fromMap(Map.of())).build();

    Admission a = gate.admit("user:a", "/run", null, ResourceQuota.builder().maxLlmCalls(1).build());
    clock.advanceMillis(250);
    a.process().recordLlmCall(1, 1);
    assertThatThrownBy(() -> a.process().recordLlmCall(1, 1)).isInstanceOf(QuotaExceededException.class);
    assertThatThrownBy(() -> a.process().recordLlmCall(1, 1)).isInstanceOf(QuotaExceededException.class);
    clock.advanceMillis(1);
    gate.release(a.process());
    gate.release(a.process());                             // idempotent: no second "ended"

    assertThat(gate.listener()).isSameAs(limiter.listener());
    assertThat(events.lines).containsExactly("admitted /run minute", "started /run",
        "violation /run max_llm_calls_exceeded", "ended /run 251000000");
  }

  @Test
  void listener_thatAlwaysThrows_neverBreaksADecisionAndIsLoggedOnce() {
    RecordingLogger log = new RecordingLogger();
    ControlTowerListener broken = ControlTowerListener.guarded(new ControlTowerListener() {
      @Override
      public void onAdmitted(String endpoint, LimitType window) {
        throw new IllegalStateException("broken listener");
      }

      @Override
      public void onRejected(String endpoint, LimitType window) {
        throw new IllegalStateException("broken listener");
      }

      @Override
      public void onProcessEnded(String endpoint, long durationNanos) {
        throw new IllegalStateException("broken listener");
      }

      @Override
      public String toString() {
        return "BrokenListener";
      }
    }, log);
    RateLimiter limiter = limiter(broken);
    RequestGate gate = RequestGate.builder().rateLimiter(limiter)
        .resourceTracker(ResourceTracker.builder().clock(clock).build()).build();

    for (int i = 0; i < 3; i++) {
      Admission a = gate.admit("user:a", "default", null);
      assertThat(a.admitted()).isTrue();
      assertThat(gate.release(a.process())).isTrue();
    }
    assertThat(gate.admit("user:a", "default", null).admitted()).isFalse();

    assertThat(log.lines()).hasSize(1);
    assertThat(log.lines().get(0).level()).isEqualTo(Level.WARN);
    assertThat(log.lines().get(0).message()).contains("BrokenListener").contains("onAdmitted").contains("logged once");
  }

  @Test
  void guarded_noopOrGuarded_returnsItUnwrapped() {
    ControlTowerListener once = ControlTowerListener.guarded(events);

    assertThat(ControlTowerListener.guarded(ControlTowerListener.NOOP)).isSameAs(ControlTowerListener.NOOP);
    assertThat(ControlTowerListener.guarded(once)).isSameAs(once);
    assertThat(RateLimiter.create().listener()).isSameAs(ControlTowerListener.NOOP);
    assertThat(RequestGate.builder().build().listener()).isSameAs(ControlTowerListener.NOOP);
  }

  @Test
  void builder_listenerTwice_namesTheEarlierOne() {
    assertThatThrownBy(() -> RateLimiter.builder().listener(events).listener(events))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("listener was already set");
  }
}
