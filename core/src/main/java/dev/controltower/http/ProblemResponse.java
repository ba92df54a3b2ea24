package dev.controltower.http;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.QuotaViolation;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A complete error answer for an adapter to send: status, header fields, and an RFC 9457
 * {@code application/problem+json} body. Immutable and thread-safe.
 *
 * <p>A rate-limit rejection ({@link #rateLimited}: a request refused by a window or for a concurrency
 * slot, or a token reservation refused while the request runs; {@code limit_type} then names the
 * window, {@code concurrency} or {@code tokens-minute} ...) has status 429, the {@link RateLimitHeaders} fields
 * with {@code Retry-After}, {@code Cache-Control: no-store}, and a body with {@code type},
 * {@code title}, {@code status}, {@code detail}, {@code limit_type}, {@code limit}, {@code current},
 * {@code retry_after} (integer seconds, equal to {@code Retry-After}) and {@code violated-policies}. A
 * quota violation ({@link #quotaExceeded}) has status 429, {@code Cache-Control: no-store}, and a body
 * whose {@code type} ends with, and whose {@code reason} is, the violation code, such as
 * {@code max_llm_calls_exceeded}.
 *
 * @param status the HTTP status
 * @param headers the header fields to set, besides {@code Content-Type}
 * @param body the JSON body
 */
public record ProblemResponse(int status, List<HeaderField> headers, String body) {
  /** The body's media type, exactly: RFC 9457 defines no {@code charset} parameter for it (JSON is UTF-8). */
  public static final String CONTENT_TYPE = "application/problem+json";
  /** The {@code type} of a rate-limit rejection. */
  public static final String RATE_LIMIT_TYPE = "urn:controltower:problem:rate-limit-exceeded";
  /**
   * The {@code type} of a refusal that no wait can cure: a token reservation above a window's limit.
   * Its answer has no {@code Retry-After} and no {@code retry_after} member.
   */
  public static final String NEVER_ADMITTED_TYPE = "urn:controltower:problem:rate-limit-cost-exceeds-limit";
  /** The {@code type} of a 503 while the shared rate-limit store cannot answer (fail mode closed). */
  public static final String STORE_UNAVAILABLE_TYPE = "urn:controltower:problem:store-unavailable";
  /** The prefix of the {@code type} of a quota violation; the violation code follows. */
  public static final String QUOTA_TYPE_PREFIX = "urn:controltower:problem:quota:";

  /**
   * Validates and copies the fields.
   *
   * @throws IllegalArgumentException if {@code status} is not an HTTP error status
   * @throws NullPointerException if a field is null
   */
  public ProblemResponse {
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("status must be in [400, 599] but was " + status);
    }
    headers = List.copyOf(Objects.requireNonNull(headers, "headers must not be null"));
    Objects.requireNonNull(body, "body must not be null");
  }

  /**
   * The 429 answer for a rejected decision, with the draft fields and no {@code pk}.
   *
   * @param decision a rejection
   * @param violated every window over its limit (the refusing one included), in check order
   * @param legacy whether to add {@code X-RateLimit-*} fields
   * @throws IllegalArgumentException if the decision admits
   */
  public static ProblemResponse rateLimited(RateLimitDecision decision, List<LimitType> violated, boolean legacy) {
    return rateLimited(decision, violated, legacy ? RateLimitHeaders.Mode.BOTH : RateLimitHeaders.Mode.DRAFT, (String) null);
  }

  /**
   * The 429 answer for a rejected decision: {@code Retry-After} and the problem body in every mode, the
   * rate-limit fields that {@code mode} asks for.
   *
   * @param decision a rejection
   * @param violated every window over its limit (the refusing one included), in check order
   * @param mode which rate-limit fields to add
   * @param endpoint the endpoint name, for the fields' {@code pk}; null for none
   * @throws IllegalArgumentException if the decision admits
   */
  public static ProblemResponse rateLimited(RateLimitDecision decision, List<LimitType> violated,
      RateLimitHeaders.Mode mode, String endpoint) {
    return rateLimited(decision, violated, mode, RateLimitHeaders.fields(decision.config(), endpoint));
  }

  static ProblemResponse rateLimited(RateLimitDecision decision, List<LimitType> violated, RateLimitHeaders.Mode mode,
      RateLimitHeaders.EndpointFields fields) {
    if (decision.allowed()) {
      throw new IllegalArgumentException("decision must be a rejection but was " + decision);
    }
    RateLimitResult r = decision.result();
    List<HeaderField> headers = new ArrayList<>(RateLimitHeaders.render(decision, mode, fields, null));
    headers.add(new HeaderField("Cache-Control", "no-store"));
    boolean never = decision.neverAdmitted();
    long retryAfter = Math.max(1, decision.resetSeconds());
    StringBuilder policies = new StringBuilder("[");
    for (LimitType t : violated) {
      if (policies.length() > 1) {
        policies.append(',');
      }
      Json.string(policies, t.wireName());
    }
    policies.append(']');
    StringBuilder body = new StringBuilder(320).append('{');
    Json.member(body, "type", never ? NEVER_ADMITTED_TYPE : RATE_LIMIT_TYPE).append(',');
    Json.member(body, "title", "Too Many Requests").append(',');
    body.append("\"status\":429,");
    Json.member(body, "detail", r.reason()).append(',');
    Json.member(body, "limit_type", r.limitType().wireName()).append(',');
    body.append("\"limit\":").append(r.limit()).append(',');
    body.append("\"current\":").append(r.current()).append(',');
    if (!never) {
      body.append("\"retry_after\":").append(retryAfter).append(',');
    }
    body.append("\"violated-policies\":").append(policies).append('}');
    return new ProblemResponse(429, headers, body.toString());
  }

  /** The {@code type} of a request refused as ambiguous; a short name of the ambiguity follows. */
  public static final String BAD_REQUEST_TYPE_PREFIX = "urn:controltower:problem:bad-request:";

  private static final ProblemResponse AMBIGUOUS_PATH = badRequest("ambiguous-path",
      "The request path reads as different endpoints once decoded (an encoded ';', '.', '/' or '\\');"
          + " send it without encoding these characters");

  /**
   * The 400 answer for a path that two readings send to different endpoints
   * ({@link PathDecision#AMBIGUOUS}): never counted, never passed. Shared, since it never varies.
   */
  public static ProblemResponse ambiguousPath() {
    return AMBIGUOUS_PATH;
  }

  /**
   * The 400 answer for a request with more than one value of the API-key header
   * ({@link ClientIdentityResolver#AMBIGUOUS}): never counted, never passed.
   *
   * @param header the configured header name (server-side text)
   */
  public static ProblemResponse ambiguousApiKey(String header) {
    return badRequest("ambiguous-api-key", "More than one " + header + " value was sent (several header lines,"
        + " or a comma list); send exactly one");
  }

  /**
   * A 400 answer with {@code Cache-Control: no-store} and a body of {@code type}, {@code title},
   * {@code status} and {@code detail}; the text is the server's, never the request's.
   */
  static ProblemResponse badRequest(String code, String detail) {
    StringBuilder body = new StringBuilder(200).append('{');
    Json.member(body, "type", BAD_REQUEST_TYPE_PREFIX + code).append(',');
    Json.member(body, "title", "Bad Request").append(',');
    body.append("\"status\":400,");
    Json.member(body, "detail", detail).append('}');
    return new ProblemResponse(400, List.of(new HeaderField("Cache-Control", "no-store")), body.toString());
  }

  /**
   * The 503 answer while the shared store cannot say whether the request is within its limits (fail
   * mode {@code closed}): {@code Retry-After}, {@code Cache-Control: no-store}, and a body with
   * {@code type}, {@code title}, {@code status}, {@code detail} and {@code retry_after}.
   *
   * @param retryAfterSeconds {@code >= 1}
   * @throws IllegalArgumentException if {@code retryAfterSeconds < 1}
   */
  public static ProblemResponse storeUnavailable(long retryAfterSeconds) {
    if (retryAfterSeconds < 1) {
      throw new IllegalArgumentException("retryAfterSeconds must be >= 1 but was " + retryAfterSeconds);
    }
    List<HeaderField> headers = List.of(new HeaderField("Retry-After", Long.toString(retryAfterSeconds)),
        new HeaderField("Cache-Control", "no-store"));
    StringBuilder body = new StringBuilder(200).append('{');
    Json.member(body, "type", STORE_UNAVAILABLE_TYPE).append(',');
    Json.member(body, "title", "Service Unavailable").append(',');
    body.append("\"status\":503,");
    Json.member(body, "detail", "The rate-limit store is unavailable; try again later").append(',');
    body.append("\"retry_after\":").append(retryAfterSeconds).append('}');
    return new ProblemResponse(503, headers, body.toString());
  }

  /**
   * The 429 answer for a quota violation.
   *
   * @param e the violation, as a {@link ProcessContext} reported it
   */
  public static ProblemResponse quotaExceeded(QuotaExceededException e) {
    QuotaViolation v = e.violation();
    StringBuilder body = new StringBuilder(320).append('{');
    Json.member(body, "type", QUOTA_TYPE_PREFIX + v.code()).append(',');
    Json.member(body, "title", "Resource quota exceeded").append(',');
    body.append("\"status\":429,");
    Json.member(body, "detail", "The request exceeded its resource quota: " + v.code()).append(',');
    Json.member(body, "reason", v.code()).append(',');
    body.append("\"limit\":").append(e.limit()).append(',');
    body.append("\"current\":").append(e.current()).append('}');
    return new ProblemResponse(429, List.of(new HeaderField("Cache-Control", "no-store")), body.toString());
  }

  /** Hand-written JSON: the bodies are small and fixed, and core takes no JSON dependency. */
  static final class Json {
    private Json() {}

    static StringBuilder member(StringBuilder out, String name, String value) {
      string(out, name).append(':');
      return string(out, value);
    }

    /** Appends a JSON string literal, escaping quotes, backslashes, controls and line separators. */
    static StringBuilder string(StringBuilder out, String value) {
      out.append('"');
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case '\n' -> out.append("\\n");
          case '\r' -> out.append("\\r");
          case '\t' -> out.append("\\t");
          default -> {
            if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
              out.append(String.format("\\u%04x", (int) c));
            } else {
              out.append(c);
            }
          }
        }
      }
      return out.append('"');
    }
  }
}
