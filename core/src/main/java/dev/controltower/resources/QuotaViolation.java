package dev.controltower.resources;

/**
 * Why a process is over its {@link ResourceQuota}. {@link #code()} is the design document's string,
 * such as {@code "max_llm_calls_exceeded"}, and is what HTTP answers carry.
 */
public enum QuotaViolation {
  /** More LLM calls than {@link ResourceQuota#maxLlmCalls()}. */
  MAX_LLM_CALLS_EXCEEDED("max_llm_calls_exceeded"),
  /** More tool calls than {@link ResourceQuota#maxToolCalls()}. */
  MAX_TOOL_CALLS_EXCEEDED("max_tool_calls_exceeded"),
  /** More agent hops than {@link ResourceQuota#maxAgentHops()}. */
  MAX_AGENT_HOPS_EXCEEDED("max_agent_hops_exceeded"),
  /** More iterations than {@link ResourceQuota#maxIterations()}. */
  MAX_ITERATIONS_EXCEEDED("max_iterations_exceeded"),
  /** More elapsed seconds than {@link ResourceQuota#timeoutSeconds()}. */
  TIMEOUT_EXCEEDED("timeout_exceeded"),
  /** One LLM call with more input tokens than {@link ResourceQuota#maxInputTokens()}. */
  MAX_INPUT_TOKENS_EXCEEDED("max_input_tokens_exceeded"),
  /** One LLM call with more output tokens than {@link ResourceQuota#maxOutputTokens()}. */
  MAX_OUTPUT_TOKENS_EXCEEDED("max_output_tokens_exceeded"),
  /** One LLM call with more input plus output tokens than {@link ResourceQuota#maxContextTokens()}. */
  MAX_CONTEXT_TOKENS_EXCEEDED("max_context_tokens_exceeded");

  private final String code;

  QuotaViolation(String code) {
    this.code = code;
  }

  /** The snake_case code, for example {@code "timeout_exceeded"}. */
  public String code() {
    return code;
  }
}
