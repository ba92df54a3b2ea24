package dev.controltower.spi;

/**
 * Thrown by a {@link WindowStore} that cannot reach its storage and is configured to refuse rather
 * than guess (a shared store's fail mode {@code closed}): the request is answered 503 with
 * {@code Retry-After}, not 429, because nobody knows whether it was over its limit.
 *
 * <p>{@link dev.controltower.http.RequestGate#admit} turns it into that answer; other callers of the
 * limiter see it thrown.
 */
public final class StoreUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** @serial ms after which the store may answer again, {@code >= 0}. */
  private final long retryAfterMillis;

  /**
   * @param message what failed, for logs (never client text)
   * @param retryAfterMillis ms after which asking again makes sense, {@code >= 0}
   * @param cause the failure, or null
   * @throws IllegalArgumentException if {@code retryAfterMillis} is negative
   */
  public StoreUnavailableException(String message, long retryAfterMillis, Throwable cause) {
    super(message, cause);
    if (retryAfterMillis < 0) {
      throw new IllegalArgumentException("retryAfterMillis must be >= 0 but was " + retryAfterMillis);
    }
    this.retryAfterMillis = retryAfterMillis;
  }

  /** Ms after which asking again makes sense. */
  public long retryAfterMillis() {
    return retryAfterMillis;
  }

  /** Whole seconds for a {@code Retry-After} field: the wait rounded up, at least 1. */
  public long retryAfterSeconds() {
    return Math.max(1, WindowMath.ceilSeconds(retryAfterMillis));
  }
}
