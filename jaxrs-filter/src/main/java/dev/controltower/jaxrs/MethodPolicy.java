package dev.controltower.jaxrs;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.ResourceQuota;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.function.UnaryOperator;

/**
 * What the annotations of one matched resource method ask for.
 *
 * @param rootTemplate the normalized route template, or null for a sub-resource method (its prefix
 *     comes from the runtime per request)
 * @param limits the endpoint limits from {@link RateLimited}, or null when neither the method nor its
 *     class is annotated
 * @param quota the per-request quota: {@link Quota} elements over the base quota
 * @param quotaOverlay the {@link Quota} elements as a change to any quota, or null when neither the
 *     method nor its class is annotated
 */
record MethodPolicy(String rootTemplate, RateLimitConfig limits, ResourceQuota quota,
    UnaryOperator<ResourceQuota> quotaOverlay) {

  /**
   * Reads the annotations of {@code method} as matched on {@code resourceClass}; unset elements take
   * the class annotation's value, else the base.
   *
   * @throws IllegalArgumentException naming the annotation, the element and the method when an element
   *     is below {@code -1}
   */
  static MethodPolicy of(Class<?> resourceClass, Method method, RateLimitConfig baseLimits,
      ResourceQuota baseQuota) {
    String where = resourceClass.getName() + "." + method.getName();
    RateLimited classLimits = resourceClass.getAnnotation(RateLimited.class);
    RateLimited methodLimits = onMethod(method, RateLimited.class);
    RateLimitConfig limits = null;
    if (classLimits != null || methodLimits != null) {
      RateLimitConfig d = baseLimits;
      limits = new RateLimitConfig(
          pick(where, "@RateLimited.requestsPerMinute", methodLimits == null ? -1 : methodLimits.requestsPerMinute(),
              classLimits == null ? -1 : classLimits.requestsPerMinute(), d.requestsPerMinute()),
          pick(where, "@RateLimited.requestsPerHour", methodLimits == null ? -1 : methodLimits.requestsPerHour(),
              classLimits == null ? -1 : classLimits.requestsPerHour(), d.requestsPerHour()),
          pick(where, "@RateLimited.requestsPerDay", methodLimits == null ? -1 : methodLimits.requestsPerDay(),
              classLimits == null ? -1 : classLimits.requestsPerDay(), d.requestsPerDay()),
          pick(where, "@RateLimited.burstSize", methodLimits == null ? -1 : methodLimits.burstSize(),
              classLimits == null ? -1 : classLimits.burstSize(), d.burstSize()),
          pick(where, "@RateLimited.tokensPerMinute", methodLimits == null ? -1 : methodLimits.tokensPerMinute(),
              classLimits == null ? -1 : classLimits.tokensPerMinute(), d.tokensPerMinute()),
          pick(where, "@RateLimited.tokensPerHour", methodLimits == null ? -1 : methodLimits.tokensPerHour(),
              classLimits == null ? -1 : classLimits.tokensPerHour(), d.tokensPerHour()),
          pick(where, "@RateLimited.tokensPerDay", methodLimits == null ? -1 : methodLimits.tokensPerDay(),
              classLimits == null ? -1 : classLimits.tokensPerDay(), d.tokensPerDay()),
          pick(where, "@RateLimited.maxConcurrentRequests",
              methodLimits == null ? -1 : methodLimits.maxConcurrentRequests(),
              classLimits == null ? -1 : classLimits.maxConcurrentRequests(), d.maxConcurrentRequests()));
    }
    Quota classQuota = resourceClass.getAnnotation(Quota.class);
    Quota methodQuota = onMethod(method, Quota.class);
    UnaryOperator<ResourceQuota> overlay = null;
    if (classQuota != null || methodQuota != null) {
      Quota m = methodQuota;
      Quota c = classQuota;
      overlay = b -> new ResourceQuota(
          pick(where, "@Quota.maxInputTokens", m == null ? -1 : m.maxInputTokens(),
              c == null ? -1 : c.maxInputTokens(), b.maxInputTokens()),
          pick(where, "@Quota.maxOutputTokens", m == null ? -1 : m.maxOutputTokens(),
              c == null ? -1 : c.maxOutputTokens(), b.maxOutputTokens()),
          pick(where, "@Quota.maxContextTokens", m == null ? -1 : m.maxContextTokens(),
              c == null ? -1 : c.maxContextTokens(), b.maxContextTokens()),
          pick(where, "@Quota.maxLlmCalls", m == null ? -1 : m.maxLlmCalls(),
              c == null ? -1 : c.maxLlmCalls(), b.maxLlmCalls()),
          pick(where, "@Quota.maxToolCalls", m == null ? -1 : m.maxToolCalls(),
              c == null ? -1 : c.maxToolCalls(), b.maxToolCalls()),
          pick(where, "@Quota.maxAgentHops", m == null ? -1 : m.maxAgentHops(),
              c == null ? -1 : c.maxAgentHops(), b.maxAgentHops()),
          pick(where, "@Quota.maxIterations", m == null ? -1 : m.maxIterations(),
              c == null ? -1 : c.maxIterations(), b.maxIterations()),
          pick(where, "@Quota.timeoutSeconds", m == null ? -1 : m.timeoutSeconds(),
              c == null ? -1 : c.timeoutSeconds(), b.timeoutSeconds()),
          pick(where, "@Quota.softTimeoutSeconds", m == null ? -1 : m.softTimeoutSeconds(),
              c == null ? -1 : c.softTimeoutSeconds(), b.softTimeoutSeconds()),
          b.rateLimit());
    }
    ResourceQuota quota = overlay == null ? baseQuota : overlay.apply(baseQuota); // also validates, eagerly
    return new MethodPolicy(RouteTemplate.ofRootResource(resourceClass, method), limits, quota, overlay);
  }

  /** The method's value if set, else the class's if set, else the fallback. */
  private static int pick(String where, String element, int onMethod, int onClass, int fallback) {
    check(where, element, onMethod);
    check(where, element, onClass);
    return onMethod != -1 ? onMethod : onClass != -1 ? onClass : fallback;
  }

  /** {@link #pick(String, String, int, int, int)} for the {@code long} elements (token windows). */
  private static long pick(String where, String element, long onMethod, long onClass, long fallback) {
    check(where, element, onMethod);
    check(where, element, onClass);
    return onMethod != -1 ? onMethod : onClass != -1 ? onClass : fallback;
  }

  private static void check(String where, String element, long value) {
    if (value < -1) {
      throw new IllegalArgumentException(
          element + " on " + where + " must be >= 0, or -1 for unset, but was " + value);
    }
  }

  /** The annotation on the method, or on the method it overrides or implements. */
  static <A extends Annotation> A onMethod(Method method, Class<A> type) {
    A direct = method.getAnnotation(type);
    if (direct != null) {
      return direct;
    }
    for (Class<?> c = method.getDeclaringClass().getSuperclass(); c != null && c != Object.class;
        c = c.getSuperclass()) {
      A found = declared(c, method, type);
      if (found != null) {
        return found;
      }
    }
    for (Class<?> c = method.getDeclaringClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Class<?> i : c.getInterfaces()) {
        A found = declared(i, method, type);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  private static <A extends Annotation> A declared(Class<?> type, Method method, Class<A> annotation) {
    try {
      return type.getDeclaredMethod(method.getName(), method.getParameterTypes()).getAnnotation(annotation);
    } catch (NoSuchMethodException notDeclaredHere) {
      return null;
    }
  }
}
