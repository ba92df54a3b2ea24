package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;
import java.util.Optional;

/**
 * A snapshot of what one process has used. Immutable: changing the tracker later does not change a
 * snapshot already returned, and nothing done to a snapshot changes the tracker.
 *
 * @param llmCalls LLM calls recorded
 * @param toolCalls tool calls recorded
 * @param agentHops agent hops recorded
 * @param iterations iterations recorded
 * @param tokensIn input tokens recorded
 * @param tokensOut output tokens recorded
 * @param elapsedSeconds seconds since the process was allocated, when the snapshot was taken
 */
public record ResourceUsage(int llmCalls, int toolCalls, int agentHops, int iterations,
    long tokensIn, long tokensOut, double elapsedSeconds) {

  private static final ResourceUsage ZERO = new ResourceUsage(0, 0, 0, 0, 0, 0, 0.0);

  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if a field is negative
   */
  public ResourceUsage {
    Checks.nonNegative("llmCalls", llmCalls);
    Checks.nonNegative("toolCalls", toolCalls);
    Checks.nonNegative("agentHops", agentHops);
    Checks.nonNegative("iterations", iterations);
    Checks.nonNegative("tokensIn", tokensIn);
    Checks.nonNegative("tokensOut", tokensOut);
    Checks.nonNegative("elapsedSeconds", elapsedSeconds);
  }

  /** Nothing used yet. */
  public static ResourceUsage zero() {
    return ZERO;
  }

  /**
   * The first way in which this usage is over {@code quota}, strictly ({@code >}: using exactly the
   * maximum is within quota), checked in this order: LLM calls, tool calls, agent hops, iterations,
   * timeout. Token limits are per LLM call and are checked by
   * {@link ResourceTracker#checkTokens(String, long, long)} instead.
   *
   * @param quota the quota to compare with
   * @return the violation, or empty when within quota
   */
  public Optional<QuotaViolation> exceedsQuota(ResourceQuota quota) {
    Checks.notNull("quota", quota);
    if (llmCalls > quota.maxLlmCalls()) {
      return Optional.of(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
    }
    if (toolCalls > quota.maxToolCalls()) {
      return Optional.of(QuotaViolation.MAX_TOOL_CALLS_EXCEEDED);
    }
    if (agentHops > quota.maxAgentHops()) {
      return Optional.of(QuotaViolation.MAX_AGENT_HOPS_EXCEEDED);
    }
    if (iterations > quota.maxIterations()) {
      return Optional.of(QuotaViolation.MAX_ITERATIONS_EXCEEDED);
    }
    if (elapsedSeconds > quota.timeoutSeconds()) {
      return Optional.of(QuotaViolation.TIMEOUT_EXCEEDED);
    }
    return Optional.empty();
  }
}
