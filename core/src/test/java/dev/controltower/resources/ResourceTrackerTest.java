package dev.controltower.resources;

import dev.controltower.resources.internal.LocalResourceTracker;
import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The tracker cases of semantics.md, and the fixes it lists. */
class ResourceTrackerTest {
  private final FakeClock clock = FakeClock.atSeconds(1_000);
  private final RecordingLogger log = new RecordingLogger();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).logger(log).build();

  @Test
  void allocate_alreadyTracked_warnsNamingTheSanitizedPidAndChangesNothing() {
    tracker.allocate("run\n7", ResourceQuota.builder().maxLlmCalls(3).build());

    assertThat(tracker.allocate("run\n7", ResourceQuota.builder().maxLlmCalls(9).build())).isFalse();

    assertThat(log.warningsContaining("process run\\u000a7 is already tracked")).isEqualTo(1);
    assertThat(log.lines()).noneMatch(l -> l.message().contains("\n"));
    assertThat(tracker.getQuota("run\n7").orElseThrow().maxLlmCalls()).isEqualTo(3);
  }

  @Test
  void allocateFresh_alreadyTracked_isRefusedWithoutAWarningAndChangesNothing() {
    LocalResourceTracker local = (LocalResourceTracker) tracker;
    assertThat(local.allocateFresh("run-7", ResourceQuota.builder().maxLlmCalls(3).build(), clock.millis())).isTrue();

    assertThat(local.allocateFresh("run-7", ResourceQuota.builder().maxLlmCalls(9).build(), clock.millis())).isFalse();

    assertThat(log.lines()).isEmpty();
    assertThat(tracker.getQuota("run-7").orElseThrow().maxLlmCalls()).isEqualTo(3);
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
  }

  @Test
  void allocate_twice_trueThenFalse() {
    assertThat(tracker.allocate("p", ResourceQuota.defaults())).isTrue();
    assertThat(tracker.allocate("p", ResourceQuota.builder().maxLlmCalls(1).build())).isFalse();
    assertThat(tracker.getQuota("p")).contains(ResourceQuota.defaults());
  }

  @Test
  void release_unknownPid_false() {
    assertThat(tracker.release("nope")).isFalse();
    tracker.allocate("p", ResourceQuota.defaults());
    assertThat(tracker.release("p")).isTrue();
    assertThat(tracker.isTracked("p")).isFalse();
  }

  @Test
  void recordUsage_twice_adds() {
    tracker.allocate("p", ResourceQuota.defaults());
    tracker.recordUsage("p", 2, 0, 0, 0, 0);
    assertThat(tracker.recordUsage("p", 3, 0, 0, 0, 0).llmCalls()).isEqualTo(5);
    assertThat(tracker.getUsage("p").orElseThrow().llmCalls()).isEqualTo(5);
  }

  @Test
  void recordUsage_unknownPid_tracksWithDefaultQuota() {
    tracker.recordUsage("new", 1, 0, 0, 0, 0);
    assertThat(tracker.isTracked("new")).isTrue();
    assertThat(tracker.getUsage("new").orElseThrow().llmCalls()).isEqualTo(1);
    assertThat(tracker.getQuota("new")).contains(ResourceQuota.defaults());
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(1);
    assertThat(tracker.getSystemUsage().activeProcesses()).isEqualTo(1);
  }

  @Test
  void checkQuota_overEachCallLimit_reportsItsCode() {
    tracker.allocate("llm", ResourceQuota.builder().maxLlmCalls(5).build());
    tracker.recordUsage("llm", 6, 0, 0, 0, 0);
    assertThat(tracker.checkQuota("llm")).contains(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
    assertThat(QuotaViolation.MAX_LLM_CALLS_EXCEEDED.code()).isEqualTo("max_llm_calls_exceeded");

    tracker.allocate("tool", ResourceQuota.builder().maxToolCalls(10).build());
    tracker.recordUsage("tool", 0, 10, 0, 0, 0);
    assertThat(tracker.checkQuota("tool")).isEmpty();
    tracker.recordUsage("tool", 0, 1, 0, 0, 0);
    assertThat(tracker.checkQuota("tool")).contains(QuotaViolation.MAX_TOOL_CALLS_EXCEEDED);

    tracker.allocate("hops", ResourceQuota.builder().maxAgentHops(5).build());
    tracker.recordUsage("hops", 0, 0, 6, 0, 0);
    assertThat(tracker.checkQuota("hops")).contains(QuotaViolation.MAX_AGENT_HOPS_EXCEEDED);

    tracker.allocate("iter", ResourceQuota.builder().maxIterations(3).build());
    tracker.recordIterations("iter", 3);
    assertThat(tracker.checkQuota("iter")).isEmpty();
    assertThat(tracker.recordIterations("iter", 1).iterations()).isEqualTo(4);
    assertThat(tracker.checkQuota("iter")).contains(QuotaViolation.MAX_ITERATIONS_EXCEEDED);
    assertThat(tracker.checkQuota("untracked")).isEmpty();
  }

  @Test
  void checkQuota_severalOver_reportsFirstInOrder() {
    tracker.allocate("p", ResourceQuota.builder().maxLlmCalls(1).maxToolCalls(1).build());
    tracker.recordUsage("p", 0, 2, 0, 0, 0);
    assertThat(tracker.checkQuota("p")).contains(QuotaViolation.MAX_TOOL_CALLS_EXCEEDED);
    tracker.recordUsage("p", 2, 0, 0, 0, 0);
    assertThat(tracker.checkQuota("p")).contains(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
  }

  @Test
  void getSystemUsage_twoProcesses_sumsCallsTokensAndHops() {
    tracker.allocate("a", ResourceQuota.defaults());
    tracker.allocate("b", ResourceQuota.defaults());
    tracker.recordUsage("a", 3, 5, 1, 100, 50);
    tracker.recordUsage("b", 2, 3, 2, 200, 100);
    SystemUsage system = tracker.getSystemUsage();
    assertThat(system.systemLlmCalls()).isEqualTo(5);
    assertThat(system.systemToolCalls()).isEqualTo(8);
    assertThat(system.systemAgentHops()).isEqualTo(3);
    assertThat(system.systemTokensIn()).isEqualTo(300);
    assertThat(system.systemTokensOut()).isEqualTo(150);
  }

  @Test
  void getSystemUsage_twoAllocationsOneRelease_totalTwoActiveOne() {
    tracker.allocate("a", ResourceQuota.defaults());
    tracker.allocate("b", ResourceQuota.defaults());
    tracker.recordUsage("a", 4, 0, 0, 0, 0);
    tracker.release("a");
    SystemUsage system = tracker.getSystemUsage();
    assertThat(system.totalProcesses()).isEqualTo(2);
    assertThat(system.activeProcesses()).isEqualTo(1);
    assertThat(system.systemLlmCalls()).as("cumulative, kept after release").isEqualTo(4);
  }

  @Test
  void getRemainingBudget_afterUse_subtractsAndFloorsAtZero() {
    tracker.allocate("p", ResourceQuota.builder().maxLlmCalls(10).maxToolCalls(50).build());
    tracker.recordUsage("p", 3, 20, 0, 0, 0);
    clock.advanceSeconds(46);
    RemainingBudget budget = tracker.getRemainingBudget("p").orElseThrow();
    assertThat(budget.llmCalls()).isEqualTo(7);
    assertThat(budget.toolCalls()).isEqualTo(30);
    assertThat(budget.agentHops()).isEqualTo(21);
    assertThat(budget.iterations()).isEqualTo(3);
    assertThat(budget.timeSeconds()).isEqualTo(254.0);
    tracker.recordUsage("p", 20, 0, 0, 0, 0);
    clock.advanceSeconds(1_000);
    budget = tracker.getRemainingBudget("p").orElseThrow();
    assertThat(budget.llmCalls()).isZero();
    assertThat(budget.timeSeconds()).isZero();
    assertThat(tracker.getRemainingBudget("none")).isEmpty();
  }

  @Test
  void adjustQuota_snakeCaseKey_changesThatPidOnly() {
    tracker.allocate("a", ResourceQuota.defaults());
    tracker.allocate("b", ResourceQuota.defaults());
    assertThat(tracker.adjustQuota("a", Map.of("max_llm_calls", 20, "timeout_seconds", 600))).isTrue();
    assertThat(tracker.getQuota("a").orElseThrow().maxLlmCalls()).isEqualTo(20);
    assertThat(tracker.getQuota("a").orElseThrow().timeoutSeconds()).isEqualTo(600);
    assertThat(tracker.getQuota("b").orElseThrow().maxLlmCalls()).isEqualTo(10);
    assertThat(ResourceQuota.defaults().maxLlmCalls()).isEqualTo(10);
    assertThat(tracker.adjustQuota("a", Map.of("maxToolCalls", 7))).isTrue();
    assertThat(tracker.getQuota("a").orElseThrow().maxToolCalls()).isEqualTo(7);
    assertThat(tracker.adjustQuota("nobody", Map.of("max_llm_calls", 1))).isFalse();
  }

  @Test
  void adjustQuota_typedForm_changesQuota() {
    tracker.allocate("a", ResourceQuota.defaults());
    assertThat(tracker.adjustQuota("a", q -> q.maxLlmCalls(2))).isTrue();
    assertThat(tracker.getQuota("a").orElseThrow().maxLlmCalls()).isEqualTo(2);
  }

  @Test
  void adjustQuota_unknownKey_throwsNamingKeyAndValidNamesAndChangesNothing() {
    tracker.allocate("a", ResourceQuota.defaults());
    Map<String, Integer> bad = new HashMap<>();
    bad.put("max_llm_calls", 99);
    bad.put("max_lm_calls", 5);
    assertThatThrownBy(() -> tracker.adjustQuota("a", bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max_lm_calls")
        .hasMessageContaining("max_llm_calls, max_tool_calls");
    assertThat(tracker.getQuota("a")).contains(ResourceQuota.defaults());
  }

  @Test
  void adjustQuota_negativeValue_throwsAndChangesNothing() {
    tracker.allocate("a", ResourceQuota.defaults());
    assertThatThrownBy(() -> tracker.adjustQuota("a", Map.of("timeout_seconds", -1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("adjustment timeout_seconds must be >= 0 but was -1; valid names are [max_input_tokens,");
    assertThat(tracker.getQuota("a")).contains(ResourceQuota.defaults());
  }

  @Test
  void recordUsage_negativeDelta_throwsAndRecordsNothing() {
    tracker.allocate("p", ResourceQuota.defaults());
    tracker.recordUsage("p", 1, 0, 0, 0, 0);
    assertThatThrownBy(() -> tracker.recordUsage("p", 5, -1, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("toolCalls must be >= 0 but was -1");
    assertThatThrownBy(() -> tracker.recordIterations("p", -2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("iterations must be >= 0 but was -2");
    assertThatThrownBy(() -> tracker.recordUsage("q", 0, 0, 0, -5, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokensIn");
    assertThat(tracker.getUsage("p").orElseThrow().llmCalls()).isEqualTo(1);
    assertThat(tracker.isTracked("q")).as("a rejected recording creates nothing").isFalse();
    assertThat(tracker.getSystemUsage().systemLlmCalls()).isEqualTo(1);
  }

  @Test
  void recordUsage_totalWouldOverflow_throwsAndRecordsNothing() {
    tracker.recordUsage("p", Integer.MAX_VALUE, 0, 0, 0, 0);
    assertThatThrownBy(() -> tracker.recordUsage("p", 1, 0, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overflow");
    assertThat(tracker.getUsage("p").orElseThrow().llmCalls()).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void nullPid_throwsNamingPid() {
    assertThatThrownBy(() -> tracker.allocate(null, ResourceQuota.defaults()))
        .isInstanceOf(NullPointerException.class).hasMessage("pid must not be null");
    assertThatThrownBy(() -> tracker.recordUsage(null, 1, 0, 0, 0, 0))
        .isInstanceOf(NullPointerException.class).hasMessage("pid must not be null");
    assertThatThrownBy(() -> tracker.checkQuota(null))
        .isInstanceOf(NullPointerException.class).hasMessage("pid must not be null");
    assertThatThrownBy(() -> tracker.allocate("p", null))
        .isInstanceOf(NullPointerException.class).hasMessage("quota must not be null");
  }

  @Test
  void checkQuota_clockPassesTimeout_reportsTimeoutWithNoCallBetween() {
    tracker.allocate("p", ResourceQuota.builder().timeoutSeconds(300).build());
    clock.advanceSeconds(300);
    assertThat(tracker.checkQuota("p")).as("exactly the timeout is within quota").isEmpty();
    clock.advanceMillis(1);
    assertThat(tracker.checkQuota("p")).contains(QuotaViolation.TIMEOUT_EXCEEDED);
  }

  @Test
  void getUsage_seesCurrentElapsedTime() {
    tracker.allocate("p", ResourceQuota.defaults());
    clock.advanceSeconds(12.5);
    assertThat(tracker.getUsage("p").orElseThrow().elapsedSeconds()).isEqualTo(12.5);
    assertThat(tracker.updateElapsedTime("p").getAsDouble()).isEqualTo(12.5);
    assertThat(tracker.updateElapsedTime("none")).isEmpty();
    assertThat(tracker.getAllUsage().get("p").elapsedSeconds()).isEqualTo(12.5);
  }

  @Test
  void elapsedTime_clockMovesBack_neverDecreases() {
    tracker.allocate("p", ResourceQuota.defaults());
    clock.advanceSeconds(10);
    assertThat(tracker.updateElapsedTime("p").getAsDouble()).isEqualTo(10.0);
    clock.advanceSeconds(-5);
    assertThat(tracker.updateElapsedTime("p").getAsDouble()).isEqualTo(10.0);
  }

  @Test
  void checkTokens_perCallLimits_inOrderInputOutputContext() {
    tracker.allocate("p", ResourceQuota.builder().maxInputTokens(100).maxOutputTokens(50).maxContextTokens(120).build());
    assertThat(tracker.checkTokens("p", 100, 20)).isEmpty();
    assertThat(tracker.checkTokens("p", 101, 60)).contains(QuotaViolation.MAX_INPUT_TOKENS_EXCEEDED);
    assertThat(tracker.checkTokens("p", 10, 51)).contains(QuotaViolation.MAX_OUTPUT_TOKENS_EXCEEDED);
    assertThat(tracker.checkTokens("p", 80, 41)).contains(QuotaViolation.MAX_CONTEXT_TOKENS_EXCEEDED);
    assertThat(tracker.checkTokens("none", 1_000_000, 0)).isEmpty();
    assertThatThrownBy(() -> tracker.checkTokens("p", -1, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void snapshots_areNotLiveState() {
    tracker.allocate("p", ResourceQuota.defaults());
    ResourceUsage before = tracker.recordUsage("p", 1, 0, 0, 0, 0);
    Map<String, ResourceUsage> all = tracker.getAllUsage();
    tracker.recordUsage("p", 1, 0, 0, 0, 0);
    assertThat(before.llmCalls()).isEqualTo(1);
    assertThat(all.get("p").llmCalls()).isEqualTo(1);
    assertThatThrownBy(() -> all.put("x", ResourceUsage.zero())).isInstanceOf(UnsupportedOperationException.class);
    Optional<ResourceQuota> quota = tracker.getQuota("p");
    tracker.adjustQuota("p", Map.of("max_llm_calls", 99));
    assertThat(quota.orElseThrow().maxLlmCalls()).isEqualTo(10);
  }

  @Test
  void warnings_llmCallsAtEightyPercent_loggedOnce() {
    tracker.allocate("p", ResourceQuota.builder().maxLlmCalls(10).build());
    for (int i = 0; i < 7; i++) {
      tracker.recordUsage("p", 1, 0, 0, 0, 0);
    }
    assertThat(log.warningsContaining("LLM calls")).isZero();
    for (int i = 0; i < 5; i++) {
      tracker.recordUsage("p", 1, 0, 0, 0, 0);
    }
    assertThat(log.warningsContaining("LLM calls")).isEqualTo(1);
    assertThat(log.lines().get(0).message()).contains("8 of 10 LLM calls");
  }

  @Test
  void warnings_softTimeout_loggedOnceWhenReached() {
    tracker.allocate("p", ResourceQuota.builder().timeoutSeconds(300).softTimeoutSeconds(240).build());
    clock.advanceSeconds(239);
    tracker.checkQuota("p");
    assertThat(log.warningsContaining("soft timeout")).isZero();
    clock.advanceSeconds(1);
    tracker.checkQuota("p");
    tracker.recordUsage("p", 0, 1, 0, 0, 0);
    clock.advanceSeconds(30);
    tracker.checkQuota("p");
    assertThat(log.warningsContaining("soft timeout")).isEqualTo(1);
  }

  @Test
  void warnings_hostilePid_controlCharactersNeutralized() {
    String pid = "p\r\nFAKE LOG LINE";
    tracker.allocate(pid, ResourceQuota.builder().maxLlmCalls(1).build());
    tracker.recordUsage(pid, 1, 0, 0, 0, 0);
    assertThat(log.lines()).hasSize(1);
    assertThat(log.lines().get(0).message()).doesNotContain("\r").doesNotContain("\n").contains("\\u000d\\u000a");
  }
}
