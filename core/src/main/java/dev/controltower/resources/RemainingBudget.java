package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;

/**
 * What a process may still use before it is over its quota: each field is {@code max(0, max - used)}.
 *
 * @param llmCalls LLM calls left
 * @param toolCalls tool calls left
 * @param agentHops agent hops left
 * @param iterations iterations left
 * @param timeSeconds seconds left before the timeout, {@code max(0, timeout - elapsed)}
 */
public record RemainingBudget(int llmCalls, int toolCalls, int agentHops, int iterations, double timeSeconds) {
  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if a field is negative
   */
  public RemainingBudget {
    Checks.nonNegative("llmCalls", llmCalls);
    Checks.nonNegative("toolCalls", toolCalls);
    Checks.nonNegative("agentHops", agentHops);
    Checks.nonNegative("iterations", iterations);
    Checks.nonNegative("timeSeconds", timeSeconds);
  }
}
