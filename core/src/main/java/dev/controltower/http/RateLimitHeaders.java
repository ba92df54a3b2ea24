package dev.controltower.http;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimitResult;
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
    return render(decision, legacy, null);
  }

  /**
   * {@link #render(RateLimitDecision, boolean)} with the {@code RateLimit-Policy} field of the
   * decision's config already made, when the caller keeps it (it changes only with the config).
   *
   * @param policy {@code policy(decision.config())}, or null to make it here
   */
  static List<HeaderField> render(RateLimitDecision decision, boolean legacy, HeaderField policy) {
    List<HeaderField> out = new ArrayList<>(6);
    LimitType window = decision.window();
    if (window == null) {
      return out;
    }
    RateLimitResult result = decision.result();
    out.add(policy != null ? policy : new HeaderField(POLICY, policy(decision.config())));
    long remaining = decision.allowed() ? result.remaining() : 0;
    long reset = decision.resetSeconds();
    out.add(rateLimitField(decision));
    if (!decision.allowed()) {
      out.add(new HeaderField(RETRY_AFTER, Long.toString(Math.max(1, reset))));
    }
    if (legacy) {
      out.add(new HeaderField("X-RateLimit-Limit", Long.toString(decision.config().limitFor(window))));
      out.add(new HeaderField("X-RateLimit-Remaining", Long.toString(remaining)));
      out.add(new HeaderField("X-RateLimit-Reset", Long.toString(reset)));
    }
    return out;
  }

  /** The {@code RateLimit} field of a decision that names a window. */
  static HeaderField rateLimitField(RateLimitDecision decision) {
    long remaining = decision.allowed() ? decision.result().remaining() : 0;
    return new HeaderField(RATE_LIMIT,
        "\"" + decision.window().wireName() + "\";r=" + remaining + ";t=" + decision.resetSeconds());
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
