package dev.controltower.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.ResourceQuota;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import org.junit.jupiter.api.Test;

class MethodPolicyTest {

  private static final RateLimitConfig LIMITS = RateLimitConfig.builder().requestsPerHour(500).build();
  private static final ResourceQuota BASE = ResourceQuota.builder().maxLlmCalls(7).timeoutSeconds(100).build();

  @Path("/plain")
  static class Plain {
    @GET
    public String get() {
      return "";
    }
  }

  @Path("/annotated")
  @RateLimited(requestsPerMinute = 30, requestsPerHour = 300)
  @Quota(maxLlmCalls = 5, timeoutSeconds = 60)
  static class Annotated {
    @GET
    public String inherits() {
      return "";
    }

    @GET
    @Path("x")
    @RateLimited(requestsPerMinute = 2)
    @Quota(maxToolCalls = 3, maxLlmCalls = 1)
    public String overrides() {
      return "";
    }
  }

  @Path("/method-only")
  static class MethodOnly {
    @GET
    @RateLimited(requestsPerMinute = 4)
    public String get() {
      return "";
    }
  }

  @Path("/bad")
  static class Bad {
    @GET
    @RateLimited(requestsPerMinute = -2)
    public String get() {
      return "";
    }
  }

  @Test
  void of_noAnnotations_noLimitsAndBaseQuota() throws Exception {
    MethodPolicy p = MethodPolicy.of(Plain.class, Plain.class.getMethod("get"), LIMITS, BASE);

    assertThat(p.rootTemplate()).isEqualTo("/plain");
    assertThat(p.limits()).isNull();
    assertThat(p.quota()).isEqualTo(BASE);
    assertThat(p.quotaOverlay()).isNull();
  }

  @Test
  void of_classAnnotationsOnly_unsetElementsTakeBase() throws Exception {
    MethodPolicy p = MethodPolicy.of(Annotated.class, Annotated.class.getMethod("inherits"), LIMITS, BASE);

    assertThat(p.limits()).isEqualTo(LIMITS.toBuilder().requestsPerMinute(30).requestsPerHour(300).build());
    assertThat(p.quota()).isEqualTo(BASE.toBuilder().maxLlmCalls(5).timeoutSeconds(60).build());
  }

  @Test
  void of_methodAnnotation_overridesClassElementByElement() throws Exception {
    MethodPolicy p = MethodPolicy.of(Annotated.class, Annotated.class.getMethod("overrides"), LIMITS, BASE);

    assertThat(p.rootTemplate()).isEqualTo("/annotated/x");
    assertThat(p.limits()).isEqualTo(LIMITS.toBuilder().requestsPerMinute(2).requestsPerHour(300).build());
    assertThat(p.quota()).isEqualTo(BASE.toBuilder().maxLlmCalls(1).maxToolCalls(3).timeoutSeconds(60).build());
    assertThat(p.quotaOverlay().apply(ResourceQuota.defaults()))
        .isEqualTo(ResourceQuota.defaults().toBuilder().maxLlmCalls(1).maxToolCalls(3).timeoutSeconds(60).build());
  }

  @Test
  void of_methodAnnotationOnly_unsetElementsTakeBaseLimits() throws Exception {
    MethodPolicy p = MethodPolicy.of(MethodOnly.class, MethodOnly.class.getMethod("get"), LIMITS, BASE);

    assertThat(p.limits()).isEqualTo(LIMITS.toBuilder().requestsPerMinute(4).build());
    assertThat(p.limits().requestsPerHour()).isEqualTo(500);
    assertThat(p.quota()).isEqualTo(BASE);
  }

  @Test
  void of_elementBelowMinusOne_throwsNamingElementAndMethod() {
    assertThatThrownBy(() -> MethodPolicy.of(Bad.class, Bad.class.getMethod("get"), LIMITS, BASE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("@RateLimited.requestsPerMinute on " + Bad.class.getName()
            + ".get must be >= 0, or -1 for unset, but was -2");
  }
}
