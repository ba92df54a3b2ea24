package dev.controltower.resources;

import dev.controltower.resources.internal.Checks;
import dev.controltower.resources.internal.LocalResourceTracker;
import dev.controltower.resources.internal.MonotonicClock;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quotas and usage per process (a request, an agent run), like cgroups for LLM agents: allocate a
 * quota to a pid, record LLM calls, tool calls, agent hops, iterations and tokens as they happen, and
 * ask whether the process is still within its quota.
 *
 * <p><b>Thread safety.</b> Every method may be called from any number of threads; updates to one pid
 * are atomic, so concurrent recordings lose no increment. Every returned object is a snapshot or an
 * immutable value: changing it cannot change the tracker.
 *
 * <p><b>Time.</b> A process's elapsed seconds run from its allocation (or first recording), read from
 * the injected clock, never decreasing. The default clock is monotonic, so wall-clock jumps do not
 * change elapsed times. Elapsed time is computed when asked: {@link #checkQuota(String)} reports
 * {@link QuotaViolation#TIMEOUT_EXCEEDED} as soon as the timeout has passed, with no other call between.
 *
 * <p><b>Example.</b>
 * <pre>{@code
 * ResourceTracker tracker = ResourceTracker.create();
 * tracker.allocate("env-123", ResourceQuota.builder().maxLlmCalls(10).build());
 * tracker.recordUsage("env-123", 1, 0, 0, 500, 200);
 * tracker.checkQuota("env-123").ifPresent(v -> System.out.println("Quota exceeded: " + v.code()));
 * tracker.release("env-123");
 * }</pre>
 *
 * <p><b>Logging.</b> A WARN line once per pid when its LLM calls reach 80% of the maximum, and once when
 * its elapsed time reaches the soft timeout; never a line per call.
 *
 * <p><b>Memory.</b> One small entry per tracked pid; release every pid you allocate (the HTTP adapters
 * do so when a response completes).
 */
public interface ResourceTracker {

  /** A tracker with {@link ResourceQuota#defaults()} as its default quota. */
  static ResourceTracker create() {
    return builder().build();
  }

  /**
   * A tracker with the given default quota.
   *
   * @throws NullPointerException if {@code defaultQuota} is null
   */
  static ResourceTracker create(ResourceQuota defaultQuota) {
    return builder().defaultQuota(defaultQuota).build();
  }

  /** A builder for a tracker with non-default settings. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Tracks a new pid with a quota. Allocating a pid that is already tracked changes nothing and logs a
   * WARN naming the (log-sanitized) pid, as the original did: it is a caller's bug.
   *
   * @return true if allocated, false if the pid was already tracked (nothing changes then)
   * @throws NullPointerException if an argument is null
   */
  boolean allocate(String pid, ResourceQuota quota);

  /**
   * Stops tracking a pid. Its usage stays in the system totals.
   *
   * @return true if it was tracked
   * @throws NullPointerException if {@code pid} is null
   */
  boolean release(String pid);

  /** The pid's quota, or empty if it is not tracked. */
  Optional<ResourceQuota> getQuota(String pid);

  /**
   * Replaces some fields of one pid's quota; see {@link ResourceQuota#withAdjustments(Map)} for the
   * names (snake_case as in the design document, or camelCase).
   *
   * @return false if the pid is not tracked
   * @throws IllegalArgumentException if a key is unknown or a value negative; nothing changes then
   * @throws NullPointerException if an argument is null
   */
  boolean adjustQuota(String pid, Map<String, Integer> adjustments);

  /**
   * Replaces one pid's quota with {@code change} applied to a builder of the current one, the typed
   * form of {@link #adjustQuota(String, Map)}: {@code adjustQuota(pid, q -> q.maxLlmCalls(20))}.
   *
   * @return false if the pid is not tracked
   * @throws NullPointerException if an argument is null, or if {@code change} returns null
   */
  boolean adjustQuota(String pid, UnaryOperator<ResourceQuota.Builder> change);

  /**
   * Adds usage to a pid. An untracked pid is tracked at once with the default quota.
   *
   * @return the usage after adding, as a snapshot
   * @throws IllegalArgumentException if a delta is negative, or a total would overflow; nothing is
   *     recorded then
   * @throws NullPointerException if {@code pid} is null
   */
  ResourceUsage recordUsage(String pid, int llmCalls, int toolCalls, int agentHops, long tokensIn, long tokensOut);

  /**
   * Adds iterations to a pid. An untracked pid is tracked at once with the default quota.
   *
   * @return the usage after adding, as a snapshot
   * @throws IllegalArgumentException if {@code iterations} is negative, or the total would overflow
   * @throws NullPointerException if {@code pid} is null
   */
  ResourceUsage recordIterations(String pid, int iterations);

  /** The pid's usage now, or empty if it is not tracked. */
  Optional<ResourceUsage> getUsage(String pid);

  /** Every tracked pid's usage now, as an unmodifiable snapshot. */
  Map<String, ResourceUsage> getAllUsage();

  /** The pid's elapsed seconds now, or empty if it is not tracked. */
  OptionalDouble updateElapsedTime(String pid);

  /**
   * The first way in which the pid is over its quota now (LLM calls, tool calls, agent hops,
   * iterations, timeout; strict {@code >}), or empty if it is within quota or not tracked.
   */
  Optional<QuotaViolation> checkQuota(String pid);

  /**
   * Checks the token counts of one LLM call against the pid's per-call limits: input tokens, then
   * output tokens, then their sum against the context limit. Records nothing.
   *
   * @return the violation, or empty if within the limits or the pid is not tracked
   * @throws IllegalArgumentException if a count is negative
   */
  Optional<QuotaViolation> checkTokens(String pid, long tokensIn, long tokensOut);

  /** What the pid may still use, each field floored at 0, or empty if it is not tracked. */
  Optional<RemainingBudget> getRemainingBudget(String pid);

  /** Totals over every pid ever tracked. */
  SystemUsage getSystemUsage();

  /** Whether the pid is tracked now. */
  boolean isTracked(String pid);

  /** Builds a {@link ResourceTracker}. Not thread-safe; each setting may be given once. */
  final class Builder {
    private ResourceQuota defaultQuota;
    private InstantSource clock;
    private Logger logger;

    private Builder() {}

    /** The quota of pids tracked by a recording rather than by {@link #allocate}; default the design document's. */
    public Builder defaultQuota(ResourceQuota quota) {
      Checks.notNull("defaultQuota", quota);
      Checks.notYetSet("defaultQuota", defaultQuota, defaultQuota != null);
      defaultQuota = quota;
      return this;
    }

    /**
     * The time source for elapsed times; default a monotonic clock (anchored on the system clock,
     * advancing with {@link System#nanoTime()}). Tests pass a fake clock.
     */
    public Builder clock(InstantSource clock) {
      Checks.notNull("clock", clock);
      Checks.notYetSet("clock", this.clock, this.clock != null);
      this.clock = clock;
      return this;
    }

    /** Where warnings go; default the SLF4J logger named {@code dev.controltower.resources.ResourceTracker}. */
    public Builder logger(Logger logger) {
      Checks.notNull("logger", logger);
      Checks.notYetSet("logger", this.logger, this.logger != null);
      this.logger = logger;
      return this;
    }

    /** The tracker. */
    public ResourceTracker build() {
      return new LocalResourceTracker(
          defaultQuota == null ? ResourceQuota.defaults() : defaultQuota,
          clock == null ? new MonotonicClock() : clock,
          logger == null ? LoggerFactory.getLogger(ResourceTracker.class) : logger);
    }
  }
}
