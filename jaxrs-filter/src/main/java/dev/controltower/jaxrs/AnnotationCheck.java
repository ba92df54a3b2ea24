package dev.controltower.jaxrs;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.ResourceQuota;
import jakarta.ws.rs.container.DynamicFeature;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.FeatureContext;

/**
 * Checks the {@link RateLimited} and {@link Quota} annotations of every resource method when the
 * application is deployed, so that an invalid element fails the deployment instead of the method's
 * first request. Registered by {@link QuotaFeature}; registers nothing itself.
 */
public final class AnnotationCheck implements DynamicFeature {

  /** A check; it holds no state. */
  public AnnotationCheck() {}

  /**
   * Checks one resource method.
   *
   * @throws IllegalArgumentException naming the annotation, the element and the method when an element
   *     is below {@code -1}
   */
  @Override
  public void configure(ResourceInfo resourceInfo, FeatureContext context) {
    if (resourceInfo.getResourceClass() != null && resourceInfo.getResourceMethod() != null) {
      MethodPolicy.of(resourceInfo.getResourceClass(), resourceInfo.getResourceMethod(),
          RateLimitConfig.defaults(), ResourceQuota.defaults());
    }
  }
}
