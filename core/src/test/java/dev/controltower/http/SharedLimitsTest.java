package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SharedLimitsTest {
  private final Map<String, Object> attributes = new HashMap<>();
  private final SharedLimits.Context context = new SharedLimits.Context() {
    @Override
    public Object getAttribute(String name) {
      return attributes.get(name);
    }

    @Override
    public void setAttribute(String name, Object value) {
      if (value == null) {
        attributes.remove(name);
      } else {
        attributes.put(name, value);
      }
    }
  };

  @Test
  void findOrPublish_emptyContext_buildsAndPublishesBoth() {
    SharedLimits.Shared first = SharedLimits.findOrPublish("a", context, null, null, HttpSettings.defaults(), n -> false);

    assertThat(first.limiterBuiltHere()).isTrue();
    assertThat(attributes).containsEntry(HttpAttributes.RATE_LIMITER, first.rateLimiter())
        .containsEntry(HttpAttributes.RESOURCE_TRACKER, first.resourceTracker())
        .containsEntry(SharedLimits.BUILT_LIMITER, first.rateLimiter());
  }

  @Test
  void findOrPublish_secondAdapter_findsTheFirstOnes() {
    SharedLimits.Shared first = SharedLimits.findOrPublish("a", context, null, null, HttpSettings.defaults(), n -> false);
    SharedLimits.Shared second = SharedLimits.findOrPublish("b", context, null, null, HttpSettings.defaults(), n -> false);

    assertThat(second.limiterBuiltHere()).isFalse();
    assertThat(second.rateLimiter()).isSameAs(first.rateLimiter());
    assertThat(second.resourceTracker()).isSameAs(first.resourceTracker());
  }

  @Test
  void findOrPublish_givenInstances_winAndArePublishedButNotMarkedBuilt() {
    RateLimiter limiter = RateLimiter.create();
    ResourceTracker tracker = ResourceTracker.create();

    SharedLimits.Shared s = SharedLimits.findOrPublish("a", context, limiter, tracker, HttpSettings.defaults(), n -> true);

    assertThat(s.rateLimiter()).isSameAs(limiter);
    assertThat(s.limiterBuiltHere()).isFalse();
    assertThat(attributes).containsEntry(HttpAttributes.RATE_LIMITER, limiter).doesNotContainKey(SharedLimits.BUILT_LIMITER);
  }

  @Test
  void findOrPublish_noContext_buildsWithoutPublishing() {
    SharedLimits.Shared s = SharedLimits.findOrPublish("a", null, null, null, HttpSettings.defaults(), n -> false);

    assertThat(s.limiterBuiltHere()).isTrue();
    assertThat(s.rateLimiter()).isNotNull();
  }

  @Test
  void closeBuilt_afterBuilding_forgetsTheBuiltLimiterOnly() {
    SharedLimits.findOrPublish("a", context, null, null, HttpSettings.defaults(), n -> false);

    SharedLimits.closeBuilt(context);
    SharedLimits.closeBuilt(context);

    assertThat(attributes).doesNotContainKey(SharedLimits.BUILT_LIMITER).containsKey(HttpAttributes.RATE_LIMITER);
  }
}
