package dev.controltower.http;

import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.ControlTowerListener;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How every adapter of a webapp finds or publishes the one limiter and tracker it shares with the
 * others, in the servlet-context attributes {@link HttpAttributes#RATE_LIMITER} and
 * {@link HttpAttributes#RESOURCE_TRACKER}: the servlet {@code RateLimitFilter} and the JAX-RS
 * {@code QuotaInterceptor} both call {@link #findOrPublish}, so that one user has one budget.
 *
 * <p>The limiter is, in order: the one given (an adapter's constructor), else the one in the context,
 * else a new one from the settings ({@link HttpSettings#newRateLimiter()}, on the configured store);
 * the same for the tracker. What is used is published where the attribute is unset. A limiter built
 * here is also published as {@link #BUILT_LIMITER}, so that whoever ends the webapp closes its store
 * ({@link #closeBuilt}). Calls are serialized, so two adapters starting at once never build two
 * limiters (and two Redis connections) for one context.
 */
public final class SharedLimits {
  private static final Logger LOG = LoggerFactory.getLogger(SharedLimits.class);
  private static final Object LOCK = new Object();

  /** Servlet-context attribute holding the limiter that an adapter built from its settings. */
  public static final String BUILT_LIMITER = "dev.controltower.http.builtRateLimiter";
  /** The settings that configure the limiter, ignored (with a warning) when it is built elsewhere. */
  public static final List<String> LIMITER_PARAMETERS = List.of("requests-per-minute", "requests-per-hour",
      "requests-per-day", "burst-size", "tokens-per-minute", "tokens-per-hour", "tokens-per-day",
      "max-concurrent-requests", "max-keys", "store", "redis-uri", "store-timeout", "fail-mode");

  /** The attributes of a servlet context, as an adapter reaches them. */
  public interface Context {
    /** The attribute, or null. */
    Object getAttribute(String name);

    /** Sets the attribute. */
    void setAttribute(String name, Object value);
  }

  /**
   * What an adapter uses.
   *
   * @param rateLimiter the limiter
   * @param resourceTracker the tracker
   * @param limiterBuiltHere whether the limiter was built from the settings by this call
   */
  public record Shared(RateLimiter rateLimiter, ResourceTracker resourceTracker, boolean limiterBuiltHere) {}

  private SharedLimits() {}

  /**
   * Finds, builds and publishes the limiter and tracker (see the class comment).
   *
   * @param who the adapter, for the warning, such as {@code RateLimitFilter rate-limit}
   * @param context the servlet context, or null outside a servlet container
   * @param givenLimiter a limiter given to the adapter, or null
   * @param givenTracker a tracker given to the adapter, or null
   * @param settings the adapter's settings
   * @param isSet whether the adapter's configuration sets a parameter, for the warning about
   *     {@link #LIMITER_PARAMETERS} that a limiter built elsewhere makes useless
   * @throws IllegalArgumentException naming the setting and the value when the store cannot be made
   */
  public static Shared findOrPublish(String who, Context context, RateLimiter givenLimiter,
      ResourceTracker givenTracker, HttpSettings settings, java.util.function.Predicate<String> isSet) {
    Objects.requireNonNull(settings, "settings must not be null");
    synchronized (LOCK) {
      RateLimiter limiter = givenLimiter;
      ResourceTracker tracker = givenTracker;
      if (limiter == null && context != null && context.getAttribute(HttpAttributes.RATE_LIMITER) instanceof RateLimiter l) {
        limiter = l;
      }
      if (tracker == null && context != null
          && context.getAttribute(HttpAttributes.RESOURCE_TRACKER) instanceof ResourceTracker t) {
        tracker = t;
      }
      boolean builtHere = limiter == null;
      if (builtHere) {
        limiter = settings.newRateLimiter(context != null
            && context.getAttribute(HttpAttributes.LISTENER) instanceof ControlTowerListener l ? l : null);
        if (context != null && context.getAttribute(HttpAttributes.RATE_LIMITER) == null) {
          context.setAttribute(BUILT_LIMITER, limiter);
        }
      } else {
        List<String> ignored = LIMITER_PARAMETERS.stream().filter(isSet).toList();
        if (!ignored.isEmpty()) {
          LOG.warn("{}: {} ignored, because it uses a limiter built elsewhere (constructor or servlet-context "
              + "attribute {}); configure that limiter instead", who, ignored, HttpAttributes.RATE_LIMITER);
        }
      }
      if (tracker == null) {
        tracker = ResourceTracker.create(settings.quota());
      }
      if (context != null) {
        if (context.getAttribute(HttpAttributes.RATE_LIMITER) == null) {
          context.setAttribute(HttpAttributes.RATE_LIMITER, limiter);
        }
        if (context.getAttribute(HttpAttributes.RESOURCE_TRACKER) == null) {
          context.setAttribute(HttpAttributes.RESOURCE_TRACKER, tracker);
        }
      }
      return new Shared(limiter, tracker, builtHere);
    }
  }

  /**
   * Closes the store of the limiter an adapter built for this context ({@link #BUILT_LIMITER}), when the
   * webapp ends; idempotent. A limiter that the application put in the context is its own to close.
   */
  public static void closeBuilt(Context context) {
    RateLimiter built;
    synchronized (LOCK) {
      built = context.getAttribute(BUILT_LIMITER) instanceof RateLimiter l ? l : null;
      if (built != null) {
        context.setAttribute(BUILT_LIMITER, null);
      }
    }
    if (built != null) {
      HttpSettings.closeStore(built);
    }
  }
}
