package dev.controltower.http;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.RecordingLogger;
import dev.controltower.resources.ResourceTracker;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RequestGateTest {
  /** The partition key of the endpoint "default": the first 9 bytes of its SHA-256, base64. */
  private static final String PK = ";pk=:N6juwc4ZaH0T:";
  private final FakeClock clock = FakeClock.atMillis(100_000);
  private final RateLimiter limiter = RateLimiter.builder()
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(100).requestsPerDay(1000).build())
      .clock(clock).build();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();

  private RequestGate gate(Map<String, String> params) {
    AtomicInteger n = new AtomicInteger();
    return RequestGate.builder().settings(HttpSettings.fromMap(params)).rateLimiter(limiter).resourceTracker(tracker)
        .pidSource(() -> "pid-" + n.incrementAndGet()).build();
  }

  @Test
  void admit_withinLimit_admitsWithHeadersAndPid() {
    Admission a = gate(Map.of()).admit("user:alice", "default", null);

    assertThat(a.admitted()).isTrue();
    assertThat(a.process().pid()).isEqualTo("pid-1");
    assertThat(tracker.isTracked("pid-1")).isTrue();
    assertThat(HeaderFields.value(a.headers(), "RateLimit-Policy"))
        .isEqualTo(RateLimitHeaders.policy(RateLimitConfig.builder().requestsPerMinute(3).requestsPerHour(100)
            .requestsPerDay(1000).build(), "default"))
        .isEqualTo("\"minute\";q=3;w=60" + PK + ", \"hour\";q=100;w=3600" + PK + ", \"day\";q=1000;w=86400" + PK);
    assertThat(HeaderFields.value(a.headers(), "RateLimit")).isEqualTo("\"minute\";r=2;t=60" + PK);
    assertThat(HeaderFields.value(a.headers(), "X-Process-Id")).isEqualTo("pid-1");
    assertThat(HeaderFields.value(a.headers(), "Retry-After")).isNull();
  }

  @Test
  void admit_overLimit_rejectsWith429ProblemAndNoPid() {
    RequestGate gate = gate(Map.of());
    for (int i = 0; i < 3; i++) {
      gate.release(gate.admit("user:alice", "default", null).process());
    }

    Admission a = gate.admit("user:alice", "default", null);

    assertThat(a.admitted()).isFalse();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(3);
    ProblemResponse p = a.rejection();
    assertThat(p.status()).isEqualTo(429);
    assertThat(p.headers()).containsExactly(
        new HeaderField("RateLimit-Policy",
            "\"minute\";q=3;w=60" + PK + ", \"hour\";q=100;w=3600" + PK + ", \"day\";q=1000;w=86400" + PK),
        new HeaderField("RateLimit", "\"minute\";r=0;t=60" + PK),
        new HeaderField("Retry-After", "60"),
        new HeaderField("Cache-Control", "no-store"));
    assertThat(p.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Rate limit exceeded: 3/3 requests per minute\",\"limit_type\":\"minute\","
        + "\"limit\":3,\"current\":3,\"retry_after\":60,\"violated-policies\":[\"minute\"]}");
  }

  @Test
  void admit_fractionalWait_retryAfterIsCeilingAndEqualsT() {
    RequestGate gate = gate(Map.of());
    for (int i = 0; i < 3; i++) {
      gate.admit("user:bob", "default", null);
    }
    clock.advanceMillis(59_500);

    Admission a = gate.admit("user:bob", "default", null);

    assertThat(HeaderFields.value(a.rejection().headers(), "Retry-After")).isEqualTo("1"); // 0.5 s rounds up to 1
    assertThat(HeaderFields.value(a.rejection().headers(), "RateLimit")).isEqualTo("\"minute\";r=0;t=1" + PK);
    assertThat(a.rejection().body()).contains("\"retry_after\":1");
    clock.advanceMillis(1_000);
    assertThat(gate.admit("user:bob", "default", null).admitted()).isTrue();
  }

  @Test
  void admit_legacyHeaders_areAdded() {
    Admission a = gate(Map.of("legacy-headers", "true")).admit("user:alice", "default", null);

    assertThat(HeaderFields.value(a.headers(), "X-RateLimit-Limit")).isEqualTo("3");
    assertThat(HeaderFields.value(a.headers(), "X-RateLimit-Remaining")).isEqualTo("2");
    assertThat(HeaderFields.value(a.headers(), "X-RateLimit-Reset")).isEqualTo("60");
  }

  @Test
  void admit_unlimitedConfig_sendsNoRateLimitFields() {
    limiter.setUserLimits("user:free", new RateLimitConfig(0, 0, 0, 0));

    Admission a = gate(Map.of()).admit("user:free", "default", null);

    assertThat(a.headers()).extracting(HeaderField::name).containsExactly("X-Process-Id");
  }

  @Test
  void admit_requestIdUntrusted_isNotUsed() {
    Admission a = gate(Map.of()).admit("user:alice", "default", "client-chosen");

    assertThat(a.process().pid()).isEqualTo("pid-1");
  }

  @Test
  void admit_requestIdTrustedAndWellFormed_isThePid() {
    RequestGate gate = gate(Map.of("trust-request-id", "true"));

    assertThat(gate.admit("user:alice", "default", "req-42").process().pid()).isEqualTo("req-42");
    assertThat(gate.admit("user:alice", "default", "req-42").process().pid()).isEqualTo("pid-1"); // taken
    assertThat(gate.admit("user:alice", "default", "bad id\r\n").process().pid()).isEqualTo("pid-2");
  }

  @Test
  void admit_requestIdOrGeneratedPidInUse_neverReachesTheTrackersDuplicateWarning() {
    RecordingLogger trackerLog = new RecordingLogger();
    ResourceTracker quiet = ResourceTracker.builder().clock(clock).logger(trackerLog).build();
    AtomicInteger n = new AtomicInteger();
    RequestGate gate = RequestGate.builder().settings(HttpSettings.fromMap(Map.of("trust-request-id", "true")))
        .rateLimiter(RateLimiter.create()).resourceTracker(quiet).pidSource(() -> "pid-" + (n.incrementAndGet() / 2))
        .build();

    ProcessContext first = gate.admit("user:alice", "default", "req-42").process();
    ProcessContext second = gate.admit("user:alice", "default", "req-42").process(); // in flight: a fresh pid
    ProcessContext third = gate.admit("user:alice", "default", null).process();
    ProcessContext fourth = gate.admit("user:alice", "default", null).process();     // pid-1 again, passed over

    assertThat(first.pid()).isEqualTo("req-42");
    assertThat(second.pid()).isEqualTo("pid-0");
    assertThat(third.pid()).isEqualTo("pid-1");
    assertThat(fourth.pid()).isEqualTo("pid-2");
    assertThat(trackerLog.lines()).isEmpty();
  }

  @Test
  void release_twice_releasesOnce() {
    RequestGate gate = gate(Map.of());
    ProcessContext p = gate.admit("user:alice", "default", null).process();

    assertThat(gate.release(p)).isTrue();
    assertThat(gate.release(p)).isFalse();
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }

  @Test
  void isPreflight_optionsWithOriginAndMethod_isPreflight() {
    assertThat(RequestGate.isPreflight("OPTIONS", n -> List.of("x"))).isTrue();
    assertThat(RequestGate.isPreflight("OPTIONS", n -> n.equals("Origin") ? List.of("x") : List.of())).isFalse();
    assertThat(RequestGate.isPreflight("GET", n -> List.of("x"))).isFalse();
  }

  @Test
  void admit_rejection_isLoggedAtDebugWithControlCharactersNeutralized() {
    RecordingLogger log = new RecordingLogger();
    RequestGate gate = RequestGate.builder().settings(HttpSettings.defaults()).rateLimiter(limiter)
        .resourceTracker(tracker).logger(log).build();
    String forged = "user:eve\r\n[main] INFO forged line";
    for (int i = 0; i < 4; i++) {
      gate.admit(forged, "default", null);
    }

    assertThat(log.lines()).hasSize(1);
    assertThat(log.lines().get(0).message()).doesNotContain("\r", "\n").contains("user:eve\\u000d\\u000a[main]");
  }

  @Test
  void processContext_overQuota_throwsWithCodeAndKeepsUsage() {
    RequestGate gate = gate(Map.of("max-llm-calls", "2"));
    ProcessContext p = gate.admit("user:alice", "default", null).process();
    p.recordLlmCall(10, 5);
    p.recordLlmCall(10, 5);

    assertThatThrownBy(() -> p.recordLlmCall(10, 5))
        .isInstanceOfSatisfying(QuotaExceededException.class, e -> {
          assertThat(e.violation()).isEqualTo(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
          assertThat(e.limit()).isEqualTo(2);
          assertThat(e.current()).isEqualTo(3);
          assertThat(ProblemResponse.quotaExceeded(e).body()).isEqualTo(
              "{\"type\":\"urn:controltower:problem:quota:max_llm_calls_exceeded\","
                  + "\"title\":\"Resource quota exceeded\",\"status\":429,"
                  + "\"detail\":\"The request exceeded its resource quota: max_llm_calls_exceeded\","
                  + "\"reason\":\"max_llm_calls_exceeded\",\"limit\":2,\"current\":3}");
        });
    assertThat(p.violation()).contains(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
    assertThat(p.usage().orElseThrow().llmCalls()).isEqualTo(3);
    assertThat(tracker.getSystemUsage().systemLlmCalls()).isEqualTo(3);
  }

  @Test
  void processContext_eachKind_isRecorded() {
    ProcessContext p = gate(Map.of()).admit("user:alice", "default", null).process();

    p.recordToolCall();
    p.recordHop();
    p.recordIteration();
    p.recordTokens(7, 3);
    p.record(1, 1, 1, 1, 10, 10);

    assertThat(p.usage().orElseThrow()).satisfies(u -> {
      assertThat(u.llmCalls()).isEqualTo(1);
      assertThat(u.toolCalls()).isEqualTo(2);
      assertThat(u.agentHops()).isEqualTo(2);
      assertThat(u.iterations()).isEqualTo(2);
      assertThat(u.tokensIn()).isEqualTo(17);
      assertThat(u.tokensOut()).isEqualTo(13);
    });
    assertThat(p.remaining().orElseThrow().toolCalls()).isEqualTo(48);
  }

  @Test
  void processContext_tooManyTokensInOneCall_throwsTokenViolation() {
    ProcessContext p = gate(Map.of("max-input-tokens", "100")).admit("user:alice", "default", null).process();

    assertThatThrownBy(() -> p.recordLlmCall(101, 0))
        .isInstanceOfSatisfying(QuotaExceededException.class,
            e -> assertThat(e.violation()).isEqualTo(QuotaViolation.MAX_INPUT_TOKENS_EXCEEDED));
  }

  @Test
  void processContext_afterTimeout_checkQuotaThrowsTimeout() {
    ProcessContext p = gate(Map.of("timeout-seconds", "5")).admit("user:alice", "default", null).process();
    p.checkQuota();
    clock.advanceMillis(5_001);

    assertThatThrownBy(p::checkQuota).isInstanceOfSatisfying(QuotaExceededException.class,
        e -> assertThat(e.violation()).isEqualTo(QuotaViolation.TIMEOUT_EXCEEDED));
  }

  @Test
  void processContext_afterRelease_refusesToRecordAndDoesNotRecreatePid() {
    RequestGate gate = gate(Map.of());
    ProcessContext p = gate.admit("user:alice", "default", null).process();
    gate.release(p);

    assertThatThrownBy(p::recordToolCall).isInstanceOf(IllegalStateException.class).hasMessageContaining("released");
    assertThatThrownBy(p::checkQuota).isInstanceOf(IllegalStateException.class);
    assertThat(tracker.isTracked(p.pid())).isFalse();
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    assertThat(p.usage()).isEmpty();
  }

  @Test
  void processContext_concurrentRecordAndRelease_neverLeaksPid() throws Exception {
    RequestGate gate = gate(Map.of("max-tool-calls", "1000000"));
    for (int round = 0; round < 200; round++) {
      ProcessContext p = gate.admit("user:r" + round, "default", null).process();
      Thread recorder = new Thread(() -> {
        try {
          for (int i = 0; i < 100; i++) {
            p.recordToolCall();
          }
        } catch (IllegalStateException expected) {
          // released under our feet: exactly the case being tested
        }
      });
      recorder.start();
      gate.release(p);
      recorder.join();
    }

    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
  }

  @Test
  void quotaExceededException_findIn_findsWrappedCause() {
    QuotaExceededException q = new QuotaExceededException(QuotaViolation.MAX_TOOL_CALLS_EXCEEDED, "p", 1, 2);

    assertThat(QuotaExceededException.findIn(new RuntimeException(new IllegalStateException(q)))).isSameAs(q);
    assertThat(QuotaExceededException.findIn(new RuntimeException())).isNull();
  }

  @Test
  void problemJson_escapesQuotesBackslashesAndControls() {
    StringBuilder out = ProblemResponse.Json.string(new StringBuilder(), "a\"b\\c\n\u0001\u2028");

    assertThat(out.toString()).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\\u2028\"");
  }
}
