package dev.controltower.resources;

/**
 * Tokens set aside in a pair's token windows before an LLM call ({@link RateLimiter#reserveTokens}),
 * settled once the call's real usage is known. A client that reserves before every call and settles
 * with no more than it reserved never makes a token window exceed its limit, under any concurrency.
 *
 * <pre>{@code
 * TokenReservation r = limiter.reserveTokens(user, endpoint, 2_000);
 * if (!r.granted()) {
 *   // answer 429 with Retry-After: ceil(r.result().retryAfterSeconds())
 * }
 * try {
 *   Usage u = llm.call(prompt, 2_000);
 *   r.settle(u.inputTokens() + u.outputTokens());
 * } finally {
 *   if (r.granted() && !r.isSettled()) r.cancel();
 * }
 * }</pre>
 *
 * <p>Thread-safe: exactly one {@link #settle} or {@link #cancel} succeeds.
 */
public interface TokenReservation {
  /** Whether the tokens were reserved; a refused reservation counted nothing. */
  boolean granted();

  /**
   * The limiter's answer: when granted, the tightest token window's count (the reservation included),
   * limit and remaining; when refused, the refusing window (the one whose room comes last), its count,
   * limit and wait, exactly as a refused request reports it.
   */
  RateLimitResult result();

  /** {@link #result()} with what an HTTP answer needs besides. */
  RateLimitDecision decision();

  /** How many tokens were reserved; 0 when refused. */
  long tokens();

  /**
   * Settles with the tokens the call really used: fewer than reserved gives the rest back to the bucket
   * the reservation went to (if it is still in the window); more adds the excess unconditionally (the
   * window may then exceed its limit, and refuses until it frees).
   *
   * @param actualTokens {@code >= 0}
   * @throws IllegalArgumentException if {@code actualTokens < 0}
   * @throws IllegalStateException if the reservation was refused, or settled or cancelled already
   */
  void settle(long actualTokens);

  /**
   * Gives every reserved token back: {@code settle(0)}.
   *
   * @throws IllegalStateException if the reservation was refused, or settled or cancelled already
   */
  default void cancel() {
    settle(0);
  }

  /** Whether {@link #settle} or {@link #cancel} has been called successfully. */
  boolean isSettled();
}
