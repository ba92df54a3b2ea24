package dev.controltower.http;

import dev.controltower.resources.RateLimitDecision;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link RequestGate#admit}: either the request goes on, with a {@link ProcessContext}
 * that must be released when its response completes, or it is answered with {@link #rejection()}.
 *
 * @param decision the limiter's decision; {@code null} when there was none because the shared store
 *     could not answer (the rejection is then a 503, {@link ProblemResponse#storeUnavailable})
 * @param headers the fields to set on an admitted response ({@code RateLimit-Policy}, {@code RateLimit},
 *     {@code X-Process-Id}); a rejection carries its own in {@link ProblemResponse#headers()}
 * @param process the admitted request's process, {@code null} when rejected
 * @param rejection the 429 answer, {@code null} when admitted
 */
public record Admission(RateLimitDecision decision, List<HeaderField> headers, ProcessContext process,
    ProblemResponse rejection) {

  /**
   * Validates the combination.
   *
   * @throws IllegalArgumentException unless exactly one of {@code process} and {@code rejection} is set
   * @throws NullPointerException if {@code headers} is null, or {@code decision} is null for anything
   *     but a 503 rejection
   */
  public Admission {
    if (decision == null && (rejection == null || rejection.status() != 503)) {
      throw new NullPointerException("decision must not be null");
    }
    headers = List.copyOf(Objects.requireNonNull(headers, "headers must not be null"));
    if ((process == null) == (rejection == null)) {
      throw new IllegalArgumentException("exactly one of process and rejection must be set");
    }
  }

  /** Whether the request goes on. */
  public boolean admitted() {
    return process != null;
  }
}
