package dev.controltower.http;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.TokenBudget;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Renders a {@link RateLimitDecision} as response header fields. This is the one place that knows the
 * fields' syntax, so that following a later draft is a change here alone. Per
 * draft-ietf-httpapi-ratelimit-headers-10:
 *
 * <pre>
 * RateLimit-Policy: "minute";q=60;w=60;pk=:3q2-7wQmF8uN:, "hour";q=1000;w=3600;pk=:3q2-7wQmF8uN:
 * RateLimit: "minute";r=59;t=1;pk=:3q2-7wQmF8uN:
 * </pre>
 *
 * {@code RateLimit-Policy} lists every enabled request window (quota {@code q} requests per {@code w}
 * seconds) in the order burst, minute, hour, day, then a concurrency limit as
 * {@code "concurrency";q=2;qu="concurrent-requests"} (no window). Token windows are not draft policies
 * (draft-10 registers no token unit): they go into {@code x-ratelimit-limit-tokens},
 * {@code x-ratelimit-remaining-tokens} and {@code x-ratelimit-reset-tokens} ({@link #tokenFields}), the
 * fields LLM clients read, the reset written as OpenAI writes it ({@code 6m0s}, {@code 1s},
 * {@code 250ms}). {@code RateLimit} names the binding window: the refusing one, or
 * the one with the least room; {@code r} is the requests left and {@code t} the seconds until that window
 * frees a slot (rejected) or its count next falls (admitted). Both carry the partition key {@code pk}
 * (draft-10 section 4, a structured-field byte sequence, {@code :base64:}): the first 9 bytes of the
 * SHA-256 of the endpoint name, never of the user's key, so that a client tells the {@code "minute"} of
 * one endpoint from another's. {@link Mode} chooses the draft fields, the legacy
 * {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset} (delta seconds), both or none. A
 * rejection adds {@code Retry-After}, the same integer as {@code t}, at least 1, in every mode. A config
 * with no enabled window renders no rate-limit field. Values come from the decision and the endpoint
 * name alone, never from the request.
 *
 * <p>Stateless and thread-safe.
 */
public final class RateLimitHeaders {
  /** The policy field name. */
  public static final String POLICY = "RateLimit-Policy";
  /** The current-state field name. */
  public static final String RATE_LIMIT = "RateLimit";
  /** The standard retry field name. */
  public static final String RETRY_AFTER = "Retry-After";

  /** Which rate-limit fields a response carries (parameter {@code rate-limit-headers}). */
  public enum Mode {
    /** {@code RateLimit-Policy} and {@code RateLimit} (the default). */
    DRAFT("draft", true, false),
    /** {@code X-RateLimit-Limit}, {@code -Remaining} and {@code -Reset}. */
    LEGACY("legacy", false, true),
    /** Both sets. */
    BOTH("both", true, true),
    /** None; a 429 still carries {@code Retry-After} and its problem body. */
    NONE("none", false, false);

    private final String parameterValue;
    private final boolean draft;
    private final boolean legacy;

    Mode(String parameterValue, boolean draft, boolean legacy) {
      this.parameterValue = parameterValue;
      this.draft = draft;
      this.legacy = legacy;
    }

    /** Whether this mode writes {@code RateLimit-Policy} and {@code RateLimit} (it needs the endpoint's parts). */
    boolean draft() {
      return draft;
    }

    /** The name used in the {@code rate-limit-headers} parameter. */
    public String parameterValue() {
      return parameterValue;
    }

    /** The mode named by a parameter value, ignoring case; null if none is. */
    static Mode fromParameter(String value) {
      for (Mode m : values()) {
        if (m.parameterValue.equalsIgnoreCase(value)) {
          return m;
        }
      }
      return null;
    }
  }

  /**
   * The parts of the fields that depend only on the endpoint and its config, made once and kept by the
   * caller (a gate keeps one per endpoint): the {@code RateLimit-Policy} field and the {@code ;pk=}
   * parameter.
   */
  static final class EndpointFields {
    final RateLimitConfig config;
    final HeaderField policy;
    final String pk;

    private EndpointFields(RateLimitConfig config, HeaderField policy, String pk) {
      this.config = config;
      this.policy = policy;
      this.pk = pk;
    }
  }

  private RateLimitHeaders() {}

  /**
   * The header fields for a decision.
   *
   * @param decision the limiter's decision
   * @param mode which rate-limit fields to render
   * @param endpoint the endpoint name the decision is about, for {@code pk}; null for no {@code pk}
   * @return the fields, in a fixed order (policy, state, {@code Retry-After}, legacy); empty when no
   *     window is enabled
   */
  public static List<HeaderField> render(RateLimitDecision decision, Mode mode, String endpoint) {
    Objects.requireNonNull(mode, "mode must not be null");
    return new ArrayList<>(render(decision, mode, fields(decision.config(), endpoint), null));
  }

  /** The parts of {@code endpoint}'s fields under {@code config}; {@code endpoint} null for no pk. */
  static EndpointFields fields(RateLimitConfig config, String endpoint) {
    String pk = endpoint == null ? "" : ";pk=" + partitionKey(endpoint);
    return new EndpointFields(config, new HeaderField(POLICY, policyWith(config, pk)), pk);
  }

  /**
   * {@link #render(RateLimitDecision, Mode, String)}, unmodifiable, with the endpoint's parts already
   * made, and one more field after the others (an adapter's own, such as the pid).
   *
   * @param fields {@code fields(decision.config(), endpoint)}
   * @param trailing the field to put last, or null
   */
  static List<HeaderField> render(RateLimitDecision decision, Mode mode, EndpointFields fields, HeaderField trailing) {
    LimitType window = decision.window();
    if (window == null) {
      return trailing == null ? List.of() : List.of(trailing);
    }
    if (window.isTokenWindow()) {
      return renderTokenRefusal(decision, mode, fields, trailing);
    }
    boolean allowed = decision.allowed();
    int count = (mode.draft ? 2 : 0) + (allowed ? 0 : 1) + (mode.legacy ? 3 : 0) + (trailing == null ? 0 : 1);
    if (count == 0) {
      return List.of();
    }
    long remaining = allowed ? decision.result().remaining() : 0;
    long reset = decision.resetSeconds();
    HeaderField[] out = new HeaderField[count];
    int n = 0;
    if (mode.draft) {
      out[n++] = fields.policy;
      out[n++] = new HeaderField(RATE_LIMIT,
          "\"" + window.wireName() + "\";r=" + remaining + ";t=" + reset + fields.pk);
    }
    if (!allowed) {
      out[n++] = new HeaderField(RETRY_AFTER, Long.toString(Math.max(1, reset)));
    }
    if (mode.legacy) {
      out[n++] = new HeaderField("X-RateLimit-Limit", Long.toString(decision.config().limit(window)));
      out[n++] = new HeaderField("X-RateLimit-Remaining", Long.toString(remaining));
      out[n++] = new HeaderField("X-RateLimit-Reset", Long.toString(reset));
    }
    if (trailing != null) {
      out[n] = trailing;
    }
    return List.of(out);
  }

  /**
   * A decision named by a token window (a refused reservation, or a request refused while a token
   * window is full): token windows are not draft policies, so no {@code RateLimit} field names one;
   * the response carries {@code RateLimit-Policy} (draft), {@code Retry-After} (unless the tokens can
   * never fit) and the token fields of the refusing window, remaining 0, reset the wait.
   */
  private static List<HeaderField> renderTokenRefusal(RateLimitDecision decision, Mode mode, EndpointFields fields,
      HeaderField trailing) {
    List<HeaderField> out = new ArrayList<>(6);
    if (mode.draft && !fields.policy.value().isEmpty()) {
      out.add(fields.policy);
    }
    if (!decision.allowed() && !decision.neverAdmitted()) {
      out.add(new HeaderField(RETRY_AFTER, Long.toString(Math.max(1, decision.resetSeconds()))));
    }
    if (mode != Mode.NONE) {
      double wait = decision.result().retryAfterSeconds();
      long resetMillis = Double.isInfinite(wait) ? 0 : (long) Math.ceil(wait * 1000);
      out.add(new HeaderField(LIMIT_TOKENS, Long.toString(decision.result().limit())));
      out.add(new HeaderField(REMAINING_TOKENS, "0"));
      out.add(new HeaderField(RESET_TOKENS, duration(resetMillis)));
    }
    if (trailing != null) {
      out.add(trailing);
    }
    return List.copyOf(out);
  }

  /** The token-limit field, as LLM clients read it. */
  public static final String LIMIT_TOKENS = "x-ratelimit-limit-tokens";
  /** The remaining-tokens field. */
  public static final String REMAINING_TOKENS = "x-ratelimit-remaining-tokens";
  /** The token-reset field, a duration such as {@code 6m0s}. */
  public static final String RESET_TOKENS = "x-ratelimit-reset-tokens";

  /**
   * The token fields of a budget: its limit, its remaining tokens and the time until its count next
   * falls, as OpenAI writes them; empty in mode {@link Mode#NONE}.
   */
  public static List<HeaderField> tokenFields(TokenBudget budget, Mode mode) {
    if (mode == Mode.NONE) {
      return List.of();
    }
    return List.of(new HeaderField(LIMIT_TOKENS, Long.toString(budget.limit())),
        new HeaderField(REMAINING_TOKENS, Long.toString(budget.remaining())),
        new HeaderField(RESET_TOKENS, duration(budget.resetMillis())));
  }

  /**
   * A duration in the form of Go's {@code time.Duration}, which OpenAI's {@code x-ratelimit-reset-*}
   * fields use, to the millisecond: {@code 0s}, {@code 250ms}, {@code 1s}, {@code 1.5s}, {@code 6m0s},
   * {@code 1h0m0s}, {@code 24h0m0s}.
   */
  public static String duration(long millis) {
    if (millis <= 0) {
      return "0s";
    }
    if (millis < 1000) {
      return millis + "ms";
    }
    StringBuilder out = new StringBuilder(12);
    long hours = millis / 3_600_000;
    long minutes = millis / 60_000 % 60;
    long seconds = millis / 1000 % 60;
    long ms = millis % 1000;
    if (hours > 0) {
      out.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      out.append(minutes).append('m');
    }
    out.append(seconds);
    if (ms > 0) {
      String fraction = String.format("%03d", ms);
      int end = fraction.length();
      while (fraction.charAt(end - 1) == '0') {
        end--;
      }
      out.append('.').append(fraction, 0, end);
    }
    return out.append('s').toString();
  }

  /** The {@code RateLimit-Policy} value of a config, without {@code pk}; empty when no window is enabled. */
  public static String policy(RateLimitConfig config) {
    return policyWith(config, "");
  }

  /**
   * The {@code RateLimit-Policy} value of a config for an endpoint, each item with that endpoint's
   * {@code pk}; empty when no window is enabled.
   */
  public static String policy(RateLimitConfig config, String endpoint) {
    return policyWith(config, ";pk=" + partitionKey(endpoint));
  }

  private static String policyWith(RateLimitConfig config, String pk) {
    StringBuilder out = new StringBuilder(80);
    for (LimitType type : LimitType.requestWindows()) {
      int limit = config.limitFor(type);
      if (limit > 0) {
        if (out.length() > 0) {
          out.append(", ");
        }
        out.append('"').append(type.wireName()).append("\";q=").append(limit).append(";w=")
            .append(type.windowSeconds()).append(pk);
      }
    }
    int concurrent = config.maxConcurrentRequests();
    if (concurrent > 0) {
      if (out.length() > 0) {
        out.append(", ");
      }
      out.append("\"concurrency\";q=").append(concurrent).append(";qu=\"concurrent-requests\"").append(pk);
    }
    return out.toString();
  }

  /**
   * The {@code pk} value of an endpoint: a structured-field byte sequence ({@code :base64:}) of the first
   * 9 bytes of the SHA-256 of its name (12 base64 characters, no padding). Stable across restarts and
   * instances; it reveals the endpoint only to someone who can guess the name.
   */
  public static String partitionKey(String endpoint) {
    Objects.requireNonNull(endpoint, "endpoint must not be null");
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(endpoint.getBytes(StandardCharsets.UTF_8));
      return ":" + Base64.getEncoder().encodeToString(Arrays.copyOf(digest, 9)) + ":";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
