package dev.controltower.example;

import dev.controltower.http.ProcessContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pretend LLM agent: each step asks a fake LLM what to do (one LLM call, with made-up token counts)
 * and, on most steps, calls a fake tool. Every call is recorded in the request's {@link ProcessContext},
 * which throws {@link dev.controltower.http.QuotaExceededException} the moment the run is over its quota:
 * that is how a runaway agent is stopped. Before each LLM call the agent reserves the most the call can
 * cost in the user's token budget ({@link ProcessContext#reserveTokens}); recording the call settles the
 * reservation with the actual count, so a run never takes the budget over its limit.
 */
final class FakeAgent {
  /** The fake LLM's output cap, what a call is reserved for on top of its prompt (outputs are 120..209). */
  static final int MAX_OUTPUT_TOKENS = 256;
  private final int llmLatencyMillis;

  FakeAgent(int llmLatencyMillis) {
    this.llmLatencyMillis = llmLatencyMillis;
  }

  /**
   * Runs the loop for {@code steps} steps.
   *
   * @param process the request's process
   * @param task what the agent is asked to do (only echoed back in a summary, never in headers)
   * @param steps how many steps the agent wants to take
   * @param latencyMillis how long each fake LLM call takes, or -1 for the configured default
   * @return a summary of the run
   */
  Map<String, Object> run(ProcessContext process, String task, int steps, int latencyMillis) throws InterruptedException {
    List<String> transcript = new ArrayList<>();
    int delay = latencyMillis >= 0 ? latencyMillis : llmLatencyMillis;
    for (int step = 1; step <= steps; step++) {
      int tokensIn = 300 + 40 * step;
      // Before the call, reserve what it can cost at most: the prompt plus the output cap (max_tokens).
      // A refusal throws TokenLimitExceededException, which the kit answers with 429 tokens-minute; the
      // actual count below settles the reservation and gives back the rest.
      process.reserveTokens(tokensIn + MAX_OUTPUT_TOKENS);
      if (delay > 0) {
        Thread.sleep(delay);
      }
      int tokensOut = 120 + (step * 37) % 90;
      process.recordLlmCall(tokensIn, tokensOut);
      if (step % 3 != 0) {
        process.recordToolCall();
        transcript.add("step " + step + ": llm(" + tokensIn + " in, " + tokensOut + " out) -> tool search");
      } else {
        transcript.add("step " + step + ": llm(" + tokensIn + " in, " + tokensOut + " out) -> think");
      }
    }
    process.recordIteration();
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("task", task);
    summary.put("steps", steps);
    summary.put("pid", process.pid());
    process.usage().ifPresent(u -> {
      Map<String, Object> usage = new LinkedHashMap<>();
      usage.put("llm_calls", u.llmCalls());
      usage.put("tool_calls", u.toolCalls());
      usage.put("iterations", u.iterations());
      usage.put("tokens_in", u.tokensIn());
      usage.put("tokens_out", u.tokensOut());
      usage.put("elapsed_seconds", u.elapsedSeconds());
      summary.put("usage", usage);
    });
    summary.put("transcript", transcript);
    return summary;
  }
}
