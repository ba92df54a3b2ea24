package dev.controltower.http;

import dev.controltower.resources.QuotaViolation;
import java.util.Objects;

/**
 * Thrown by {@link ProcessContext} when a request's recorded usage goes over its quota. The adapters
 * turn it into a 429 answer whose body carries {@link QuotaViolation#code()}
 * ({@link ProblemResponse#quotaExceeded}); an application may let it propagate (the usual case) or catch
 * it. Unchecked, so that it passes through application code and framework wrappers.
 */
public final class QuotaExceededException extends RequestLimitException {
  private static final long serialVersionUID = 1L;

  private final QuotaViolation violation;
  private final String pid;
  private final long limit;
  private final long current;

  /**
   * A violation.
   *
   * @param violation which limit
   * @param pid the process that went over it
   * @param limit the limit, in that violation's unit (calls, tokens or seconds)
   * @param current the usage that went over it, in the same unit
   * @throws NullPointerException if {@code violation} or {@code pid} is null
   */
  public QuotaExceededException(QuotaViolation violation, String pid, long limit, long current) {
    super("quota exceeded: " + Objects.requireNonNull(violation, "violation must not be null").code()
        + " (" + current + " > " + limit + ") for process " + Objects.requireNonNull(pid, "pid must not be null"));
    this.violation = violation;
    this.pid = pid;
    this.limit = limit;
    this.current = current;
  }

  /** Which limit was exceeded. */
  public QuotaViolation violation() {
    return violation;
  }

  /** The process that exceeded it. */
  public String pid() {
    return pid;
  }

  /** The limit, in the violation's unit. */
  public long limit() {
    return limit;
  }

  /** {@link ProblemResponse#quotaExceeded} of this violation. */
  @Override
  public ProblemResponse problem() {
    return ProblemResponse.quotaExceeded(this);
  }

  /** The usage that exceeded it, in the same unit. */
  public long current() {
    return current;
  }

  /**
   * The first {@code QuotaExceededException} in the cause chain of {@code t} (itself included), or
   * {@code null}; adapters use it to find one wrapped in a framework exception. Looks at most 16 deep.
   */
  public static QuotaExceededException findIn(Throwable t) {
    for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
      if (t instanceof QuotaExceededException q) {
        return q;
      }
    }
    return null;
  }
}
