package dev.controltower.http;

/**
 * Thrown by a {@link ProcessContext} when its request must end now with a 429: the request went over
 * its resource quota ({@link QuotaExceededException}), or a token reservation was refused
 * ({@link TokenLimitExceededException}). The adapters answer {@link #problem()}; an application may let
 * it propagate (the usual case) or catch it. Unchecked, so that it passes through application code and
 * framework wrappers.
 */
public abstract class RequestLimitException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  RequestLimitException(String message) {
    super(message);
  }

  /** The answer the adapters send for it. */
  public abstract ProblemResponse problem();

  /**
   * The first {@code RequestLimitException} in the cause chain of {@code t} (itself included), or
   * {@code null}; adapters use it to find one wrapped in a framework exception. Looks at most 16 deep.
   */
  public static RequestLimitException findIn(Throwable t) {
    for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
      if (t instanceof RequestLimitException e) {
        return e;
      }
    }
    return null;
  }
}
