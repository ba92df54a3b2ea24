package dev.controltower.jaxrs;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Per-endpoint rate limits for a resource method, or for every method of a resource class.
 *
 * <p>The limits become the endpoint config of the method's endpoint name ({@code GET /users/{id}}) in
 * the {@link dev.controltower.resources.RateLimiter}, so they apply to every user and override user
 * limits, exactly like {@code RateLimiter.setEndpointLimits}. They are installed the first time the
 * {@link QuotaInterceptor} sees the method; a later {@code setEndpointLimits} call for the same name
 * replaces them.
 *
 * <p><b>Unset elements</b> ({@code -1}, the default) take the value of the class annotation if there is
 * one, else the interceptor's settings: the {@code controltower.requests-per-minute} (...) properties,
 * or {@link dev.controltower.resources.RateLimitConfig#defaults()} (60 per minute, 1,000 per hour,
 * 10,000 per day, no burst window, no token window, no concurrency limit) when none is given.
 * {@code 0} disables a window.
 *
 * <p><b>Method over class.</b> An element set on the method wins over the same element on the class;
 * the other elements are inherited from the class annotation:
 * <pre>{@code
 * @Path("/reports")
 * @RateLimited(requestsPerMinute = 30, requestsPerHour = 300)
 * public class ReportResource {
 *   @POST @RateLimited(requestsPerMinute = 2)    // 2 per minute, 300 per hour
 *   public Response generate() { ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface RateLimited {

  /** Requests per minute; {@code 0} disables the window, {@code -1} (default) leaves it unset. */
  int requestsPerMinute() default -1;

  /** Requests per hour; {@code 0} disables the window, {@code -1} (default) leaves it unset. */
  int requestsPerHour() default -1;

  /** Requests per day; {@code 0} disables the window, {@code -1} (default) leaves it unset. */
  int requestsPerDay() default -1;

  /**
   * The most requests in any one-second span; {@code 0} means no burst window, {@code -1} (default)
   * leaves it unset.
   */
  int burstSize() default -1;

  /** LLM tokens per minute; {@code 0} disables the window, {@code -1} (default) leaves it unset. */
  long tokensPerMinute() default -1;

  /** LLM tokens per hour; {@code 0} disables the window, {@code -1} (default) leaves it unset. */
  long tokensPerHour() default -1;

  /** LLM tokens per day; {@code 0} disables the window, {@code -1} (default) leaves it unset. */
  long tokensPerDay() default -1;

  /**
   * Requests of one user running at once on the endpoint; {@code 0} is unlimited, {@code -1} (default)
   * leaves it unset.
   */
  int maxConcurrentRequests() default -1;
}
