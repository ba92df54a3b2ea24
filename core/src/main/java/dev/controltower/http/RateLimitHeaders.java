package dev.controltower.http;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
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
 * {@code RateLimit-Policy} lists every enabled window (quota {@code q} requests per {@code w} seconds) in
 * the order burst, minute, hour, day. {@code RateLimit} names the binding window: the refusing one, or
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
