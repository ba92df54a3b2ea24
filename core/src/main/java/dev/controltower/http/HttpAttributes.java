package dev.controltower.http;

import java.util.function.Function;

/**
 * Attribute names shared by the adapters, so that a servlet filter and a JAX-RS application in one
 * webapp find each other's state.
 */
public final class HttpAttributes {
  /**
   * Servlet-context attribute holding the {@link dev.controltower.resources.RateLimiter} that every
   * adapter of the webapp uses, so that one user has one budget. An adapter that finds one uses it;
   * one that builds its own publishes it here if the attribute is unset.
   */
  public static final String RATE_LIMITER = "dev.controltower.resources.RateLimiter";
  /** Servlet-context attribute holding the shared {@link dev.controltower.resources.ResourceTracker}. */
  public static final String RESOURCE_TRACKER = "dev.controltower.resources.ResourceTracker";
  /**
   * Servlet-context attribute holding a {@link dev.controltower.spi.ControlTowerListener} (such as the
   * Micrometer binding) for an adapter that builds its own limiter from its parameters ({@code web.xml}
   * only). A limiter found in {@link #RATE_LIMITER} or given to a constructor brings its own listener,
   * and this attribute is not read.
   */
  public static final String LISTENER = "dev.controltower.spi.ControlTowerListener";
  /** Request attribute holding the request's {@link ProcessContext}. */
  public static final String PROCESS_CONTEXT = ProcessContext.ATTRIBUTE;
  /**
   * Request attribute marking a request an adapter has decided about without giving it a process: let
   * it pass as excluded or a preflight (the JAX-RS interceptor also sets it on the requests it counts).
   * A request has been decided when this attribute or {@link #PROCESS_CONTEXT} is set (an admitted
   * request carries only its process, which saves an attribute write per request); a second
   * registration of a filter, or a second adapter (a servlet filter in front of a JAX-RS application),
   * must then not count it again, and takes the request's {@link ProcessContext} from
   * {@link #PROCESS_CONTEXT} instead of allocating one.
   */
  public static final String COUNTED = "dev.controltower.http.counted";
  /** Response header carrying the request's pid. */
  public static final String PROCESS_ID_HEADER = "X-Process-Id";

  private HttpAttributes() {}

  /**
   * Whether an adapter has decided about the request already: {@link #COUNTED} or
   * {@link #PROCESS_CONTEXT} is set.
   *
   * @param attribute a request attribute (servlet) or property (JAX-RS) by name
   */
  public static boolean isDecided(Function<String, ?> attribute) {
    return attribute.apply(COUNTED) != null || attribute.apply(PROCESS_CONTEXT) != null;
  }
}
