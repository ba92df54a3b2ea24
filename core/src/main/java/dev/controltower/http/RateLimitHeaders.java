package dev.controltower.http;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a {@link RateLimitDecision} as response header fields, per draft-ietf-httpapi-ratelimit-headers-10:
 *
 * <pre>
 * RateLimit-Policy: "minute";q=60;w=60, "hour";q=1000;w=3600, "day";q=10000;w=86400
 * RateLimit: "minute";r=59;t=1
 * </pre>
 *
 * {@code RateLimit-Policy} lists every enabled window (quota {@code q} requests per {@code w} seconds) in
 * the order burst, minute, hour, day. {@code RateLimit} names the binding window: the refusing one, or
 * the one with the least room; {@code r} is the requests left and {@code t} the seconds until that window
 * frees a slot (rejected) or its count next falls (admitted). A rejection adds {@code Retry-After}, the
 * same integer as {@code t}, at least 1. With {@code legacy} the {@code X-RateLimit-Limit},
 * {@code -Remaining} and {@code -Reset} (delta seconds) fields are added. A config with no enabled window
 * renders no field. Values come from the decision alone, never from the request.
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

  private RateLimitHeaders() {}

  /**
   * The header fields for a decision.
   *
   * @param decision the limiter's decision
   * @param legacy whether to add {@code X-RateLimit-*}
   * @return the fields, in a fixed order; empty when no window is enabled
   */
  public static List<HeaderField> render(RateLimitDecision decision, boolean legacy) {
    return new ArrayList<>(render(decision, legacy, null, null));
  }

  /**
   * {@link #render(RateLimitDecision, boolean)}, unmodifiable, with the {@code RateLimit-Policy} field
   * of the decision's config already made when the caller keeps it (it changes only with the config),
   * and one more field after the others (an adapter's own, such as the pid).
   *
   * @param policy {@code policy(decision.config())}, or null to make it here
   * @param trailing the field to put last, or null
   */
  static List<HeaderField> render(RateLimitDecision decision, boolean legacy, HeaderField policy,
      HeaderField trailing) {
    LimitType window = decision.window();
    if (window == null) {
      return trailing == null ? List.of() : List.of(trailing);
    }
    boolean allowed = decision.allowed();
    long remaining = allowed ? decision.result().remaining() : 0;
    long reset = decision.resetSeconds();
    HeaderField[] out = new HeaderField[2 + (allowed ? 0 : 1) + (legacy ? 3 : 0) + (trailing == null ? 0 : 1)];
    int n = 0;
    out[n++] = policy != null ? policy : new HeaderField(POLICY, policy(decision.config()));
    out[n++] = new HeaderField(RATE_LIMIT, "\"" + window.wireName() + "\";r=" + remaining + ";t=" + reset);
    if (!allowed) {
      out[n++] = new HeaderField(RETRY_AFTER, Long.toString(Math.max(1, reset)));
    }
    if (legacy) {
      out[n++] = new HeaderField("X-RateLimit-Limit", Long.toString(decision.config().limitFor(window)));
      out[n++] = new HeaderField("X-RateLimit-Remaining", Long.toString(remaining));
      out[n++] = new HeaderField("X-RateLimit-Reset", Long.toString(reset));
    }
    if (trailing != null) {
      out[n] = trailing;
    }
    return List.of(out);
  }

  /** The {@code RateLimit-Policy} value of a config; empty when no window is enabled. */
  public static String policy(RateLimitConfig config) {
    StringBuilder out = new StringBuilder(80);
    for (LimitType type : LimitType.values()) {
      int limit = config.limitFor(type);
      if (limit > 0) {
        if (out.length() > 0) {
          out.append(", ");
        }
        out.append('"').append(type.wireName()).append("\";q=").append(limit).append(";w=").append(type.windowSeconds());
      }
    }
    return out.toString();
  }
}
