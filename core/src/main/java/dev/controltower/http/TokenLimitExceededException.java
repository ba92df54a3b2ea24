package dev.controltower.http;

import dev.controltower.resources.RateLimitDecision;
import java.util.Objects;

/**
 * Thrown by {@link ProcessContext#reserveTokens} when the user's token windows have no room for the
 * reservation: the request ends like a quota violation, but as a rate-limit 429 ({@code limit_type}
 * {@code tokens-minute}, {@code tokens-hour} or {@code tokens-day}, {@code Retry-After} from that
 * window), rendered in {@link #problem()} with the adapter's header mode and the endpoint's
 * {@code pk}.
 */
public final class TokenLimitExceededException extends RequestLimitException {
  private static final long serialVersionUID = 1L;

  private final transient RateLimitDecision decision;
  private final transient ProblemResponse problem;

  TokenLimitExceededException(String pid, RateLimitDecision decision, ProblemResponse problem) {
    super("token limit exceeded for process " + pid + ": " + decision.result().reason());
    this.decision = Objects.requireNonNull(decision, "decision must not be null");
    this.problem = Objects.requireNonNull(problem, "problem must not be null");
  }

  /** The refused reservation's decision. */
  public RateLimitDecision decision() {
    return decision;
  }

  @Override
  public ProblemResponse problem() {
    return problem;
  }
}
