package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.kit.FakeClock;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * A pid that the {@code X-Process-Id} header names is tracked from the admission, before the header
 * publishes it. Tracking it only at the first use of the process (tried in 369bd66 and reverted) let
 * anything that put that pid into the tracker in between (another gate on the same tracker with
 * {@code trust-request-id}, or the application through the tracker) break the contract of http.md
 * "Per-request process tracking": the application's pid equals the header's, no pid is shared by two
 * live processes, no pid outlives its request. Each test here failed on 369bd66.
 */
class HeaderPidTest {
  private final FakeClock clock = FakeClock.atMillis(100_000);
  /** One tracker, as SharedLimits gives every adapter of a webapp. */
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
  private final RateLimiter limiter = RateLimiter.builder()
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(100).build()).clock(clock).build();

  private RequestGate gate(Map<String, String> params) {
    return RequestGate.builder().settings(HttpSettings.fromMap(params)).rateLimiter(limiter)
        .resourceTracker(tracker).build();
  }

  private static String headerPid(Admission a) {
    return Objects.requireNonNull(HeaderFields.value(a.headers(), "X-Process-Id"), "no X-Process-Id field");
  }

  /**
   * Two adapters share one tracker (SharedLimits), each with its own settings: a public filter
   * (defaults: trust-request-id off) and an internal one that trusts X-Request-Id. A client that has
   * read the header of a streamed public response sends that pid as X-Request-Id to the internal one
   * before the public request first used its process.
   */
  @Test
  void sharedTracker_trustingGateGivenAHeaderPid_doesNotTakeItFromTheLiveRequest() {
    RequestGate publicGate = gate(Map.of("max-llm-calls", "1"));
    RequestGate internalGate = gate(Map.of("trust-request-id", "true"));
    Admission streamed = publicGate.admit("user:alice", "default", null);
    String p = headerPid(streamed);

    Admission claiming = internalGate.admit("user:mallory", "default", p);

    assertThat(headerPid(claiming)).as("two live requests must not be named by one pid").isNotEqualTo(p);
    streamed.process().recordLlmCall(1, 1);
    assertThat(streamed.process().pid()).as("the pid the application reads is the header's").isEqualTo(p);
    assertThatThrownBy(() -> streamed.process().recordLlmCall(1, 1))
        .isInstanceOfSatisfying(QuotaExceededException.class, e -> {
          assertThat(e.violation()).isEqualTo(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
          assertThat(e.pid()).as("the 429's pid is the header's").isEqualTo(p);
        });
  }

  /**
   * Same set-up; the public request is answered without ever using its process. The pid it reads
   * after its release must not be another live request's (LazyPidTest
   * untouchedProcess_pidReadAfterRelease_isNeverALiveProcessOfAnotherRequest states the same for
   * process-id-header=none).
   */
  @Test
  void sharedTracker_untouchedRequest_pidReadAfterRelease_isNotAnotherLiveRequestsPid() {
    RequestGate publicGate = gate(Map.of());
    RequestGate internalGate = gate(Map.of("trust-request-id", "true"));
    Admission untouched = publicGate.admit("user:alice", "default", null);
    Admission claiming = internalGate.admit("user:mallory", "default", headerPid(untouched));
    publicGate.release(untouched.process());

    String pid = untouched.process().pid();

    assertThat(pid).isNotEqualTo(claiming.process().pid());
    assertThat(tracker.isTracked(pid)).as("the released request's pid is not live").isFalse();
  }

  /**
   * An application that records through the tracker under the pid it sent in the header
   * (response.getHeader("X-Process-Id")) records into its request's process, which the release then
   * removes. Were the header's pid not tracked yet, the recording would create an entry with the
   * tracker's default quota that no release ever removes.
   */
  @Test
  void applicationRecordsUnderTheHeadersPidBeforeFirstUse_noPidOutlivesTheRequest() {
    RequestGate gate = gate(Map.of("max-tool-calls", "1000"));
    Admission a = gate.admit("user:alice", "default", null);
    String p = headerPid(a);

    tracker.recordUsage(p, 0, 1, 0, 0, 0);
    a.process().recordToolCall();

    String read = a.process().pid();
    long toolCalls = a.process().usage().orElseThrow().toolCalls();
    gate.release(a.process());

    assertThat(tracker.isTracked(p)).as("no pid outlives its request").isFalse();
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    assertThat(read).as("the pid the application reads is the header's").isEqualTo(p);
    assertThat(toolCalls).as("one process, both recordings").isEqualTo(2);
  }

  /**
   * While a request named by the header is live, its pid is live: an allocation of it elsewhere is
   * refused, rather than accepted and the request moved to a pid that no header names.
   */
  @Test
  void headerPidOfALiveRequest_isNotAllocatableElsewhere_andStaysTheRequestsPid() {
    RequestGate gate = gate(Map.of());
    Admission a = gate.admit("user:alice", "default", null);
    String p = headerPid(a);

    boolean allocated = tracker.allocate(p, ResourceQuota.defaults());
    a.process().recordToolCall();

    assertThat(allocated).as("the pid belongs to a live request").isFalse();
    assertThat(a.process().pid()).isEqualTo(p);
  }
}
