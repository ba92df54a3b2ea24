package dev.controltower.http;

import dev.controltower.resources.ConcurrencyPermit;
import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.RemainingBudget;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.resources.ResourceUsage;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.resources.TokenReservation;
import dev.controltower.resources.internal.LocalResourceTracker;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The process of one admitted request: the application records what the request uses (LLM calls, tool
 * calls, agent hops, iterations, tokens) through it, and it throws {@link QuotaExceededException} as soon
 * as the request is over its quota. Servlets find it in the request attribute {@link #ATTRIBUTE}; JAX-RS
 * resources get it injected. Requests that are not tracked (excluded paths, CORS preflights) have none.
 *
 * <pre>{@code
 * ProcessContext process = (ProcessContext) request.getAttribute(ProcessContext.ATTRIBUTE);
 * process.recordLlmCall(812, 230);   // throws QuotaExceededException when over the quota
 * process.recordToolCall();
 * }</pre>
 *
 * <p>Every {@code record} method adds to the tracker, then checks: for an LLM call first the per-call
 * token limits ({@link ResourceTracker#checkTokens}), then the process quota
 * ({@link ResourceTracker#checkQuota}, which includes the timeout). The first violation is remembered
 * ({@link #violation()}).
 *
 * <p><b>Tokens.</b> Tokens recorded here also count in the user's token windows (when the endpoint has
 * any): {@link #reserveTokens} before a call, {@link #recordLlmCall} after it. The release of the process
 * gives back what is still reserved and returns the request's concurrency slot, however it ended.
 *
 * <p><b>After release.</b> The adapter releases the pid when the response completes. From then on every
 * {@code record} and {@link #checkQuota()} call throws {@link IllegalStateException}: the tracker would
 * otherwise silently track the released pid again, with the default quota, and it would never be released.
 *
 * <p><b>Thread safety.</b> Safe for use from any thread (an async request may record from a worker);
 * recording and release are mutually exclusive, so no recording can re-create a released pid.
 */
public final class ProcessContext {
  /** The request attribute under which servlet adapters publish the context. */
  public static final String ATTRIBUTE = "dev.controltower.http.ProcessContext";

  private final RequestGate gate;
  private final ResourceTracker tracker;
  /**
   * The pid; null until the first use of a process admitted without one (no header names it: see
   * {@link RequestGate#admit}), which then tracks it from {@link #startMillis}. Guarded by this.
   */
  private String pid;
  /** When a process without a pid was admitted, on the tracker's clock; -1 for one tracked at once. */
  private final long startMillis;
  private final String userKey;
  private final String endpoint;
  private final ResourceQuota quota;
  private final ControlTowerListener listener;
  /** The request's concurrency slot, or null when its pair has no concurrency limit. */
  private final ConcurrencyPermit permit;
  /** Reservations not yet settled, oldest first: the next LLM call settles the head; null before the first. */
  private ArrayDeque<TokenReservation> pending;
  private boolean released;
  private QuotaViolation violation;
  private ProblemResponse tokenRefusal;

  /**
   * @param pid the tracked pid, or null to track one at first use (then {@code tracker} is a
   *     {@link LocalResourceTracker} and {@code startMillis} the admission on its clock)
   */
  ProcessContext(RequestGate gate, ResourceTracker tracker, String pid, long startMillis, String userKey,
      String endpoint, ResourceQuota quota, ConcurrencyPermit permit, ControlTowerListener listener) {
    this.gate = gate;
    this.tracker = tracker;
    this.pid = pid;
    this.startMillis = startMillis;
    this.userKey = userKey;
    this.endpoint = endpoint;
    this.quota = quota;
    this.listener = listener;
    this.permit = permit;
  }

  /**
   * The pid, as sent in {@code X-Process-Id}. Where no header names it, the first use of the process
   * (this, a record or a read) tracks it; after a release that came first, it is a fresh id that was
   * never tracked.
   */
  public synchronized String pid() {
    if (pid == null && released) {
      pid = gate.untrackedPid();
    }
    return released ? pid : livePid();
  }

  /** The tracked pid of a live process, tracking it now if nothing used the process before. */
  private String livePid() {
    if (pid == null) {
      pid = gate.trackFreshPid((LocalResourceTracker) tracker, quota, startMillis);
    }
    return pid;
  }

  /** The user key the request counted under, such as {@code user:alice} or {@code ip:203.0.113.7}. */
  public String userKey() {
    return userKey;
  }

  /** The endpoint the request counted against. */
  public String endpoint() {
    return endpoint;
  }

  /** The quota the process was allocated with (adjustments through the tracker are not reflected). */
  public ResourceQuota quota() {
    return quota;
  }

  /**
   * Reserves {@code estimate} tokens in the user's token windows before an LLM call
   * ({@link dev.controltower.resources.RateLimiter#reserveTokens}); the next {@link #recordLlmCall}
   * settles it with the call's {@code in + out}, and the release of the process gives back whatever is
   * still reserved then. Do not settle the returned reservation yourself when you record the call: the
   * call's tokens would be counted twice. With no token window on the endpoint it is granted and
   * counts nothing.
   *
   * @return the granted reservation
   * @throws TokenLimitExceededException if the token windows have no room: the adapters answer the
   *     rate-limit 429 ({@code limit_type} {@code tokens-minute}, ..., {@code Retry-After})
   * @throws IllegalArgumentException if {@code estimate} is negative
   * @throws IllegalStateException if the process was released
   */
  public synchronized TokenReservation reserveTokens(long estimate) {
    requireLive();
    TokenReservation r = gate.rateLimiter().reserveTokens(userKey, endpoint, estimate);
    if (!r.granted()) {
      ProblemResponse problem = gate.refusal(r.decision(), endpoint);
      if (tokenRefusal == null) {
        tokenRefusal = problem;
      }
      throw new TokenLimitExceededException(livePid(), r.decision(), problem);
    }
    if (r.tokens() > 0) {
      if (pending == null) {
        pending = new ArrayDeque<>(2);
      }
      pending.add(r);
    }
    return r;
  }

  /** The answer of the first token reservation this process had refused, if any. */
  public synchronized Optional<ProblemResponse> tokenRefusal() {
    return Optional.ofNullable(tokenRefusal);
  }

  /**
   * Records one LLM call with its token counts, then checks the call's token limits and the quota.
   * The tokens ({@code in + out}) also count in the user's token windows: they settle the oldest
   * pending reservation ({@link #reserveTokens}), or, with none, are debited as they are (a debit may
   * take a window over its limit: they were spent).
   *
   * @return the usage after recording
   * @throws QuotaExceededException if the call or the process is over the quota (the call stays recorded)
   * @throws IllegalArgumentException if a count is negative
   * @throws IllegalStateException if the process was released
   */
  public ResourceUsage recordLlmCall(long tokensIn, long tokensOut) {
    return record(1, 0, 0, 0, tokensIn, tokensOut, true);
  }

  /** Records one tool call, then checks the quota; see {@link #recordLlmCall}. */
  public ResourceUsage recordToolCall() {
    return record(0, 1, 0, 0, 0, 0, false);
  }

  /** Records one agent hop, then checks the quota; see {@link #recordLlmCall}. */
  public ResourceUsage recordHop() {
    return record(0, 0, 1, 0, 0, 0, false);
  }

  /** Records one iteration, then checks the quota; see {@link #recordLlmCall}. */
  public ResourceUsage recordIteration() {
    return record(0, 0, 0, 1, 0, 0, false);
  }

  /**
   * Records tokens without a call (for example, streamed output), debits them from the user's token
   * windows (settling no reservation), then checks the quota.
   */
  public ResourceUsage recordTokens(long tokensIn, long tokensOut) {
    return record(0, 0, 0, 0, tokensIn, tokensOut, false);
  }

  /**
   * Records any mix of usage at once, then checks the quota (and, when {@code llmCalls > 0}, the token
   * limits of one call with these tokens).
   *
   * @throws QuotaExceededException if over the quota (the usage stays recorded)
   * @throws IllegalArgumentException if a count is negative
   * @throws IllegalStateException if the process was released
   */
  public ResourceUsage record(int llmCalls, int toolCalls, int agentHops, int iterations, long tokensIn,
      long tokensOut) {
    return record(llmCalls, toolCalls, agentHops, iterations, tokensIn, tokensOut, llmCalls > 0);
  }

  private synchronized ResourceUsage record(int llm, int tool, int hops, int iterations, long in, long out,
      boolean checkTokens) {
    requireLive();
    if (llm < 0 || tool < 0 || hops < 0 || iterations < 0 || in < 0 || out < 0) {
      throw new IllegalArgumentException("usage deltas must be >= 0 but were llmCalls=" + llm + ", toolCalls="
          + tool + ", agentHops=" + hops + ", iterations=" + iterations + ", tokensIn=" + in + ", tokensOut=" + out);
    }
    if (in + out > 0) {
      countTokens(in + out, llm > 0);
    }
    String pid = livePid();
    ResourceUsage usage = tracker.recordUsage(pid, llm, tool, hops, in, out);
    if (iterations > 0) {
      usage = tracker.recordIterations(pid, iterations);
    }
    if (checkTokens) {
      Optional<QuotaViolation> v = tracker.checkTokens(pid, in, out);
      if (v.isPresent()) {
        throw exceeded(v.get(), usage, in, out);
      }
    }
    Optional<QuotaViolation> v = tracker.checkQuota(pid);
    if (v.isPresent()) {
      throw exceeded(v.get(), tracker.getUsage(pid).orElse(usage), in, out);
    }
    return usage;
  }

  /**
   * Checks the quota now (the timeout included) without recording.
   *
   * @throws QuotaExceededException if over the quota
   * @throws IllegalStateException if the process was released
   */
  public synchronized void checkQuota() {
    requireLive();
    Optional<QuotaViolation> v = tracker.checkQuota(livePid());
    if (v.isPresent()) {
      throw exceeded(v.get(), tracker.getUsage(pid).orElse(null), 0, 0);
    }
  }

  /** The first violation this context reported, if any. */
  public synchronized Optional<QuotaViolation> violation() {
    return Optional.ofNullable(violation);
  }

  /** The usage so far, or empty once released. */
  public synchronized Optional<ResourceUsage> usage() {
    return released ? Optional.empty() : tracker.getUsage(livePid());
  }

  /** What the process may still use, or empty once released. */
  public synchronized Optional<RemainingBudget> remaining() {
    return released ? Optional.empty() : tracker.getRemainingBudget(livePid());
  }

  /** Whether the pid was released (the response completed). */
  public synchronized boolean isReleased() {
    return released;
  }

  /** Settles the oldest pending reservation with {@code tokens} (a call), or debits them. */
  private void countTokens(long tokens, boolean call) {
    TokenReservation r = call && pending != null ? pending.poll() : null;
    while (r != null && r.isSettled()) {
      r = pending.poll(); // settled by the application itself
    }
    if (r != null) {
      r.settle(tokens);
    } else {
      gate.rateLimiter().recordTokens(userKey, endpoint, tokens);
    }
  }

  /**
   * Releases the pid, once; later calls return false. Gives back every unsettled reservation and the
   * concurrency slot first, whatever fails.
   *
   * @return true on the first call if the pid was tracked until now, or if nothing used the process
   *     (so that it never was)
   */
  synchronized boolean release() {
    if (released) {
      return false;
    }
    released = true;
    boolean untracked = false;
    // Read before the release, which forgets the start; only a listener pays for the reading. Reported
    // whatever the tracker answers, so that every onProcessStarted has its one onProcessEnded.
    OptionalDouble elapsed = listener == ControlTowerListener.NOOP ? OptionalDouble.empty()
        : pid != null ? tracker.updateElapsedTime(pid)
        : OptionalDouble.of(Math.max(0, ((LocalResourceTracker) tracker).millis() - startMillis) / 1000.0);
    try {
      for (TokenReservation r; pending != null && (r = pending.poll()) != null; ) {
        if (!r.isSettled()) {
          r.cancel();
        }
      }
    } finally {
      try {
        if (permit != null) {
          permit.release();
        }
      } finally {
        untracked = pid == null || tracker.release(pid);
        if (listener != ControlTowerListener.NOOP) {
          listener.onProcessEnded(endpoint, elapsed.isPresent() ? Math.round(elapsed.getAsDouble() * 1e9) : 0L);
        }
      }
    }
    return untracked;
  }

  private void requireLive() {
    if (released) {
      throw new IllegalStateException("process " + (pid == null ? "of " + endpoint : pid)
          + " was released when its response completed");
    }
  }

  private QuotaExceededException exceeded(QuotaViolation v, ResourceUsage usage, long in, long out) {
    if (violation == null) {
      violation = v;
      listener.onQuotaViolation(endpoint, v);
    }
    ResourceQuota q = tracker.getQuota(pid).orElse(quota);
    long limit;
    long current;
    switch (v) {
      case MAX_LLM_CALLS_EXCEEDED -> { limit = q.maxLlmCalls(); current = usage == null ? 0 : usage.llmCalls(); }
      case MAX_TOOL_CALLS_EXCEEDED -> { limit = q.maxToolCalls(); current = usage == null ? 0 : usage.toolCalls(); }
      case MAX_AGENT_HOPS_EXCEEDED -> { limit = q.maxAgentHops(); current = usage == null ? 0 : usage.agentHops(); }
      case MAX_ITERATIONS_EXCEEDED -> { limit = q.maxIterations(); current = usage == null ? 0 : usage.iterations(); }
      case TIMEOUT_EXCEEDED -> {
        limit = q.timeoutSeconds();
        current = usage == null ? 0 : (long) Math.ceil(usage.elapsedSeconds());
      }
      case MAX_INPUT_TOKENS_EXCEEDED -> { limit = q.maxInputTokens(); current = in; }
      case MAX_OUTPUT_TOKENS_EXCEEDED -> { limit = q.maxOutputTokens(); current = out; }
      case MAX_CONTEXT_TOKENS_EXCEEDED -> { limit = q.maxContextTokens(); current = in + out; }
      default -> throw new IllegalStateException("unknown violation " + v);
    }
    return new QuotaExceededException(v, pid, limit, current);
  }

  @Override
  public String toString() {
    String p;
    synchronized (this) {
      p = pid != null ? pid : released ? "(never tracked)" : "(untracked until first use)";
    }
    return "ProcessContext[pid=" + p + ", endpoint=" + endpoint + "]";
  }
}
