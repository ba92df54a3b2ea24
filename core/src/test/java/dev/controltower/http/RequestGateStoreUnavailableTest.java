package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.StoreUnavailableException;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import dev.controltower.spi.kit.FakeClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A shared store in fail mode closed: the gate answers 503 with Retry-After, not 429, and tracks nothing. */
class RequestGateStoreUnavailableTest {
  /** A store whose storage is gone, refusing as unavailable for 2.5 s. */
  private static final class UnavailableStore implements WindowStore {
    private StoreUnavailableException gone() {
      return new StoreUnavailableException("test store unavailable", 2_500, null);
    }

    @Override
    public Outcome acquire(String user, String endpoint, WindowPlan plan, long cost, long nowMillis) {
      throw gone();
    }

    @Override
    public Outcome check(String user, String endpoint, WindowPlan plan, long cost, long nowMillis) {
      throw gone();
    }

    @Override
    public WindowReading read(String user, String endpoint, WindowPlan plan, long nowMillis) {
      throw gone();
    }

    @Override
    public List<String> resetUser(String user) {
      throw gone();
    }

    @Override
    public int removeExpired(PlanSource plans, long nowMillis) {
      return 0;
    }

    @Override
    public List<RateLimitKey> keys(int max) {
      return List.of();
    }

    @Override
    public long size() {
      return 0;
    }
  }

  @Test
  void admit_storeUnavailable_answers503WithRetryAfterAndAllocatesNothing() {
    RateLimiter limiter = RateLimiter.builder().defaultConfig(RateLimitConfig.defaults())
        .clock(FakeClock.atSeconds(100)).store(new UnavailableStore()).build();
    ResourceTracker tracker = ResourceTracker.create();
    RequestGate gate = RequestGate.builder().rateLimiter(limiter).resourceTracker(tracker).build();

    Admission a = gate.admit("user-1", "/api", null);

    assertThat(a.admitted()).isFalse();
    assertThat(a.decision()).isNull();
    ProblemResponse p = a.rejection();
    assertThat(p.status()).isEqualTo(503);
    assertThat(p.headers()).containsExactly(new HeaderField("Retry-After", "3"), new HeaderField("Cache-Control", "no-store"));
    assertThat(p.body()).isEqualTo("{\"type\":\"urn:controltower:problem:store-unavailable\",\"title\":\"Service "
        + "Unavailable\",\"status\":503,\"detail\":\"The rate-limit store is unavailable; try again later\","
        + "\"retry_after\":3}");
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }

  @Test
  void storeUnavailableException_retryAfter_isWholeSecondsAtLeastOne() {
    assertThat(new StoreUnavailableException("x", 0, null).retryAfterSeconds()).isEqualTo(1);
    assertThat(new StoreUnavailableException("x", 1_000, null).retryAfterSeconds()).isEqualTo(1);
    assertThat(new StoreUnavailableException("x", 1_001, null).retryAfterSeconds()).isEqualTo(2);
    assertThatThrownBy(() -> new StoreUnavailableException("x", -1, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("retryAfterMillis must be >= 0 but was -1");
  }

  @Test
  void admission_withoutDecision_isOnlyA503() {
    assertThatThrownBy(() -> new Admission(null, List.of(), null,
        new ProblemResponse(429, List.of(), "{}"))).isInstanceOf(NullPointerException.class)
        .hasMessage("decision must not be null");
  }
}
