package dev.controltower.jaxrs;

import dev.controltower.http.RequestGate;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import jakarta.ws.rs.core.Feature;
import jakarta.ws.rs.core.FeatureContext;
import java.util.Objects;

/**
 * One-line registration of {@link QuotaInterceptor}:
 * <pre>{@code
 * new ResourceConfig(UserResource.class).register(new QuotaFeature(limiter, tracker));   // Jersey
 * public Set<Class<?>> getClasses() { return Set.of(QuotaFeature.class, ...); }        // any Application
 * }</pre>
 * The no-argument form registers the interceptor class, which configures itself from configuration
 * properties and servlet context attributes (see {@link QuotaInterceptor}); the others register an
 * interceptor around the given instances. Nothing is registered when an interceptor already is.
 *
 * <p>The no-argument form checks the {@code controltower.*} properties when the application is
 * deployed, so that a bad value fails the deployment with a message naming the property and the value;
 * every form registers {@link AnnotationCheck}, which checks the {@link RateLimited} and {@link Quota}
 * annotations of every resource method then. Registering the interceptor directly defers both checks
 * to the first request.
 *
 * <p>Immutable and thread-safe.
 */
public final class QuotaFeature implements Feature {
  private final QuotaInterceptor interceptor;

  /** A feature that registers a self-configuring {@link QuotaInterceptor}. */
  public QuotaFeature() {
    this.interceptor = null;
  }

  /**
   * A feature that registers an interceptor around these instances.
   *
   * @throws NullPointerException if an argument is null
   */
  public QuotaFeature(RateLimiter rateLimiter, ResourceTracker resourceTracker) {
    this.interceptor = new QuotaInterceptor(rateLimiter, resourceTracker);
  }

  /**
   * A feature that registers an interceptor sharing {@code gate} with other adapters.
   *
   * @throws NullPointerException if {@code gate} is null
   */
  public QuotaFeature(RequestGate gate) {
    this.interceptor = new QuotaInterceptor(Objects.requireNonNull(gate, "gate must not be null"));
  }

  /**
   * Registers the interceptor.
   *
   * @throws IllegalStateException naming the property and the value when a {@code controltower.*}
   *     property does not parse (no-argument form only)
   */
  @Override
  public boolean configure(FeatureContext context) {
    if (!context.getConfiguration().isRegistered(AnnotationCheck.class)) {
      context.register(AnnotationCheck.class);
    }
    if (context.getConfiguration().isRegistered(QuotaInterceptor.class)) {
      return true;
    }
    if (interceptor == null) {
      // Fail the deployment, not the first request, on a bad property.
      QuotaInterceptor.settingsFrom(context.getConfiguration());
      context.register(QuotaInterceptor.class);
    } else {
      context.register(interceptor);
    }
    return true;
  }
}
