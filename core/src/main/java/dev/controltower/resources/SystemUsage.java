package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * Totals over every process a {@link ResourceTracker} has tracked. Every counter but
 * {@code activeProcesses} is cumulative and never decreases.
 *
 * @param totalProcesses processes ever tracked
 * @param activeProcesses processes tracked now
 * @param systemLlmCalls LLM calls recorded
 * @param systemToolCalls tool calls recorded
 * @param systemAgentHops agent hops recorded
 * @param systemTokensIn input tokens recorded
 * @param systemTokensOut output tokens recorded
 */
public record SystemUsage(long totalProcesses, long activeProcesses, long systemLlmCalls, long systemToolCalls,
    long systemAgentHops, long systemTokensIn, long systemTokensOut) {
  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if a field is negative
   */
  public SystemUsage {
    Checks.nonNegative("totalProcesses", totalProcesses);
    Checks.nonNegative("activeProcesses", activeProcesses);
    Checks.nonNegative("systemLlmCalls", systemLlmCalls);
    Checks.nonNegative("systemToolCalls", systemToolCalls);
    Checks.nonNegative("systemAgentHops", systemAgentHops);
    Checks.nonNegative("systemTokensIn", systemTokensIn);
    Checks.nonNegative("systemTokensOut", systemTokensOut);
  }
}
