package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one process (one request, one agent run) may use. Immutable and thread-safe; adjusting a
 * running process's quota replaces its value, so no quota is ever shared by reference.
 *
 * <p>Defaults (the design document's): 4,096 input tokens, 2,048 output tokens and 16,384 context
 * tokens per LLM call; 10 LLM calls, 50 tool calls, 21 agent hops and 3 iterations per process; a
 * 300 s timeout with a warning at 240 s; no per-process rate limit. Every number must be {@code >= 0}.
 *
 * @param maxInputTokens input tokens allowed in one LLM call
 * @param maxOutputTokens output tokens allowed in one LLM call
 * @param maxContextTokens input plus output tokens allowed in one LLM call
 * @param maxLlmCalls LLM calls allowed per process
 * @param maxToolCalls tool calls allowed per process
 * @param maxAgentHops agent hops allowed per process
 * @param maxIterations iterations allowed per process
 * @param timeoutSeconds seconds a process may run, counted from its allocation
 * @param softTimeoutSeconds seconds after which a warning is logged, once
 * @param rateLimit per-user rate limits that go with this quota, or {@code null} for the limiter's own
 */
public record ResourceQuota(int maxInputTokens, int maxOutputTokens, int maxContextTokens,
    int maxLlmCalls, int maxToolCalls, int maxAgentHops, int maxIterations,
    int timeoutSeconds, int softTimeoutSeconds, RateLimitConfig rateLimit) {

  private static final ResourceQuota DEFAULTS =
      new ResourceQuota(4096, 2048, 16384, 10, 50, 21, 3, 300, 240, null);

  /** The adjustable fields, by their snake_case names, in declaration order. */
  private static final List<String> FIELD_NAMES = List.of(
      "max_input_tokens", "max_output_tokens", "max_context_tokens",
      "max_llm_calls", "max_tool_calls", "max_agent_hops", "max_iterations",
      "timeout_seconds", "soft_timeout_seconds");

  /**
   * Validates every field.
   *
   * @throws IllegalArgumentException if a number is negative
   */
  public ResourceQuota {
    Checks.nonNegative("maxInputTokens", maxInputTokens);
    Checks.nonNegative("maxOutputTokens", maxOutputTokens);
    Checks.nonNegative("maxContextTokens", maxContextTokens);
    Checks.nonNegative("maxLlmCalls", maxLlmCalls);
    Checks.nonNegative("maxToolCalls", maxToolCalls);
    Checks.nonNegative("maxAgentHops", maxAgentHops);
    Checks.nonNegative("maxIterations", maxIterations);
    Checks.nonNegative("timeoutSeconds", timeoutSeconds);
    Checks.nonNegative("softTimeoutSeconds", softTimeoutSeconds);
  }

  /** The design document's defaults (see the class comment). */
  public static ResourceQuota defaults() {
    return DEFAULTS;
  }

  /** A builder whose unset fields take the values of {@link #defaults()}. */
  public static Builder builder() {
    return new Builder(DEFAULTS);
  }

  /** A builder that starts from this quota's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The snake_case names that {@link #withAdjustments(Map)} and
   * {@link ResourceTracker#adjustQuota(String, Map)} accept, in declaration order.
   */
  public static List<String> adjustableFields() {
    return FIELD_NAMES;
  }

  /**
   * Whether these counts are all within this quota, inclusive: {@code llmCalls <= maxLlmCalls} and so
   * on for tool calls, agent hops and iterations.
   */
  public boolean isWithinBounds(int llmCalls, int toolCalls, int agentHops, int iterations) {
    return llmCalls <= maxLlmCalls && toolCalls <= maxToolCalls
        && agentHops <= maxAgentHops && iterations <= maxIterations;
  }

  /**
   * A copy of this quota with some fields replaced. Keys are field names in the design document's
   * snake_case ({@code max_llm_calls}, {@code timeout_seconds}, ...; see {@link #adjustableFields()});
   * the camelCase names ({@code maxLlmCalls}) are accepted too.
   *
   * @param adjustments new values by field name; an empty map returns an equal quota
   * @return the adjusted quota
   * @throws IllegalArgumentException if a key is unknown or a value is negative or null; nothing is
   *     applied then
   * @throws NullPointerException if {@code adjustments} is null
   */
  public ResourceQuota withAdjustments(Map<String, Integer> adjustments) {
    Objects.requireNonNull(adjustments, "adjustments must not be null");
    int[] values = {maxInputTokens, maxOutputTokens, maxContextTokens, maxLlmCalls, maxToolCalls,
        maxAgentHops, maxIterations, timeoutSeconds, softTimeoutSeconds};
    for (Map.Entry<String, Integer> e : adjustments.entrySet()) {
      int field = fieldIndex(e.getKey());
      Integer value = e.getValue();
      if (value == null || value < 0) {
        throw new IllegalArgumentException(Checks.mustBe("adjustment " + e.getKey(), ">= 0", value)
            + "; valid names are " + FIELD_NAMES + " (or their camelCase forms)");
      }
      values[field] = value;
    }
    return new ResourceQuota(values[0], values[1], values[2], values[3], values[4], values[5], values[6],
        values[7], values[8], rateLimit);
  }

  private static int fieldIndex(String key) {
    if (key != null) {
      for (int i = 0; i < FIELD_NAMES.size(); i++) {
        String snake = FIELD_NAMES.get(i);
        if (snake.equals(key) || camelCase(snake).equals(key)) {
          return i;
        }
      }
    }
    throw new IllegalArgumentException("unknown quota field " + (key == null ? "null" : "'" + key + "'")
        + "; valid names are " + FIELD_NAMES + " (or their camelCase forms)");
  }

  private static String camelCase(String snake) {
    StringBuilder out = new StringBuilder(snake.length());
    boolean upper = false;
    for (int i = 0; i < snake.length(); i++) {
      char c = snake.charAt(i);
      if (c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }

  /** This quota's adjustable fields as a snake_case map, in declaration order (for JSON views). */
  public Map<String, Integer> asMap() {
    int[] values = {maxInputTokens, maxOutputTokens, maxContextTokens, maxLlmCalls, maxToolCalls,
        maxAgentHops, maxIterations, timeoutSeconds, softTimeoutSeconds};
    Map<String, Integer> map = new LinkedHashMap<>();
    for (int i = 0; i < values.length; i++) {
      map.put(FIELD_NAMES.get(i), values[i]);
    }
    return Collections.unmodifiableMap(map);
  }

  /**
   * Builds a {@link ResourceQuota}. Not thread-safe; {@link #build()} copies its state, so a builder
   * can be reused. Each setter checks its value at once.
   */
  public static final class Builder {
    private int maxInputTokens;
    private int maxOutputTokens;
    private int maxContextTokens;
    private int maxLlmCalls;
    private int maxToolCalls;
    private int maxAgentHops;
    private int maxIterations;
    private int timeoutSeconds;
    private int softTimeoutSeconds;
    private RateLimitConfig rateLimit;

    private Builder(ResourceQuota from) {
      maxInputTokens = from.maxInputTokens;
      maxOutputTokens = from.maxOutputTokens;
      maxContextTokens = from.maxContextTokens;
      maxLlmCalls = from.maxLlmCalls;
      maxToolCalls = from.maxToolCalls;
      maxAgentHops = from.maxAgentHops;
      maxIterations = from.maxIterations;
      timeoutSeconds = from.timeoutSeconds;
      softTimeoutSeconds = from.softTimeoutSeconds;
      rateLimit = from.rateLimit;
    }

    /** Input tokens per LLM call; default 4,096. */
    public Builder maxInputTokens(int value) {
      maxInputTokens = Checks.nonNegative("maxInputTokens", value);
      return this;
    }

    /** Output tokens per LLM call; default 2,048. */
    public Builder maxOutputTokens(int value) {
      maxOutputTokens = Checks.nonNegative("maxOutputTokens", value);
      return this;
    }

    /** Input plus output tokens per LLM call; default 16,384. */
    public Builder maxContextTokens(int value) {
      maxContextTokens = Checks.nonNegative("maxContextTokens", value);
      return this;
    }

    /** LLM calls per process; default 10. */
    public Builder maxLlmCalls(int value) {
      maxLlmCalls = Checks.nonNegative("maxLlmCalls", value);
      return this;
    }

    /** Tool calls per process; default 50. */
    public Builder maxToolCalls(int value) {
      maxToolCalls = Checks.nonNegative("maxToolCalls", value);
      return this;
    }

    /** Agent hops per process; default 21. */
    public Builder maxAgentHops(int value) {
      maxAgentHops = Checks.nonNegative("maxAgentHops", value);
      return this;
    }

    /** Iterations per process; default 3. */
    public Builder maxIterations(int value) {
      maxIterations = Checks.nonNegative("maxIterations", value);
      return this;
    }

    /** Seconds a process may run; default 300. */
    public Builder timeoutSeconds(int value) {
      timeoutSeconds = Checks.nonNegative("timeoutSeconds", value);
      return this;
    }

    /** Seconds after which a warning is logged, once; default 240. */
    public Builder softTimeoutSeconds(int value) {
      softTimeoutSeconds = Checks.nonNegative("softTimeoutSeconds", value);
      return this;
    }

    /** Per-user rate limits that go with the quota; default {@code null} (none). */
    public Builder rateLimit(RateLimitConfig value) {
      rateLimit = value;
      return this;
    }

    /** The quota. */
    public ResourceQuota build() {
      return new ResourceQuota(maxInputTokens, maxOutputTokens, maxContextTokens, maxLlmCalls, maxToolCalls,
          maxAgentHops, maxIterations, timeoutSeconds, softTimeoutSeconds, rateLimit);
    }
  }
}
