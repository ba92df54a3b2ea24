package dev.controltower.http;

import java.util.Objects;

/**
 * What {@link RequestGate#route} made of a request path that its container decoded and mapped:
 * counted against an endpoint, passed as excluded, or refused as ambiguous (400). Immutable.
 *
 * @param kind what happens to the request
 * @param endpoint the endpoint it counts against when {@link Kind#COUNTED}, else {@code null}
 */
public record PathDecision(Kind kind, String endpoint) {
  /** An excluded path: neither limited nor tracked. */
  public static final PathDecision EXCLUDED = new PathDecision(Kind.EXCLUDED, null);
  /** A path whose two readings name different endpoints: refused with 400, never counted. */
  public static final PathDecision AMBIGUOUS = new PathDecision(Kind.AMBIGUOUS, null);

  /** What happens to a request. */
  public enum Kind {
    /** Counted against {@link #endpoint()}. */
    COUNTED,
    /** Passed uncounted ({@code exclude-paths}). */
    EXCLUDED,
    /** Refused with 400 ({@link ProblemResponse#ambiguousPath()}). */
    AMBIGUOUS
  }

  /**
   * Validates the combination.
   *
   * @throws IllegalArgumentException unless {@code endpoint} is set exactly when counted
   * @throws NullPointerException if {@code kind} is null
   */
  public PathDecision {
    Objects.requireNonNull(kind, "kind must not be null");
    if ((kind == Kind.COUNTED) != (endpoint != null)) {
      throw new IllegalArgumentException("endpoint must be set exactly when counted, but was " + endpoint
          + " for " + kind);
    }
  }

  /** A decision to count against {@code endpoint}. */
  static PathDecision counted(String endpoint) {
    return new PathDecision(Kind.COUNTED, endpoint);
  }
}
