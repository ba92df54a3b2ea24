package dev.controltower.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Defaults, builders and validation of the value types. */
class ValuesTest {

  @Test
  void rateLimitConfig_defaults_matchDesignDocument() {
    RateLimitConfig d = RateLimitConfig.defaults();
    assertThat(d).isEqualTo(new RateLimitConfig(60, 1000, 10000, 0));
    assertThat(RateLimitConfig.builder().requestsPerMinute(5).build()).isEqualTo(new RateLimitConfig(5, 1000, 10000, 0));
    assertThat(d.toBuilder().burstSize(3).build().burstSize()).isEqualTo(3);
  }

  @Test
  void rateLimitConfig_negativeLimit_throwsNamingParameterValueAndRule() {
    assertThatThrownBy(() -> new RateLimitConfig(-1, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("requestsPerMinute must be >= 0 but was -1");
    assertThatThrownBy(() -> RateLimitConfig.builder().requestsPerDay(-7))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("requestsPerDay must be >= 0 but was -7");
    assertThatThrownBy(() -> RateLimitConfig.builder().burstSize(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("burstSize must be >= 0 but was -1");
  }

  @Test
  void limitType_wireNamesAndWindows() {
    assertThat(LimitType.BURST.wireName()).isEqualTo("burst");
    assertThat(LimitType.MINUTE.wireName()).isEqualTo("minute");
    assertThat(LimitType.HOUR.window()).isEqualTo(Duration.ofHours(1));
    assertThat(LimitType.DAY.window()).isEqualTo(Duration.ofDays(1));
    assertThat(LimitType.BURST.window()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void resourceQuota_defaults_matchDesignDocument() {
    assertThat(ResourceQuota.defaults())
        .isEqualTo(new ResourceQuota(4096, 2048, 16384, 10, 50, 21, 3, 300, 240, null));
    ResourceQuota q = ResourceQuota.builder().maxLlmCalls(5).timeoutSeconds(600).build();
    assertThat(q.maxLlmCalls()).isEqualTo(5);
    assertThat(q.timeoutSeconds()).isEqualTo(600);
    assertThat(q.maxToolCalls()).isEqualTo(50);
  }

  @Test
  void resourceQuota_isWithinBounds_inclusive() {
    ResourceQuota q = ResourceQuota.defaults();
    assertThat(q.isWithinBounds(10, 50, 21, 3)).isTrue();
    assertThat(q.isWithinBounds(11, 50, 21, 3)).isFalse();
    assertThat(q.isWithinBounds(10, 50, 21, 4)).isFalse();
  }

  @Test
  void resourceQuota_negativeField_throws() {
    assertThatThrownBy(() -> ResourceQuota.builder().maxToolCalls(-3))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maxToolCalls must be >= 0 but was -3");
    assertThatThrownBy(() -> new ResourceQuota(0, 0, 0, 0, 0, 0, 0, -1, 0, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("timeoutSeconds must be >= 0 but was -1");
  }

  @Test
  void resourceQuota_withAdjustments_acceptsBothSpellingsAndKeepsOriginal() {
    ResourceQuota q = ResourceQuota.defaults();
    ResourceQuota adjusted = q.withAdjustments(Map.of("max_llm_calls", 20, "softTimeoutSeconds", 100));
    assertThat(adjusted.maxLlmCalls()).isEqualTo(20);
    assertThat(adjusted.softTimeoutSeconds()).isEqualTo(100);
    assertThat(q.maxLlmCalls()).isEqualTo(10);
    assertThat(ResourceQuota.adjustableFields()).hasSize(9).startsWith("max_input_tokens");
    assertThat(q.asMap()).containsEntry("max_agent_hops", 21).hasSize(9);
  }

  @Test
  void resourceUsage_exceedsQuota_strictAndInOrder() {
    ResourceQuota q = ResourceQuota.defaults();
    assertThat(new ResourceUsage(10, 50, 21, 3, 0, 0, 300.0).exceedsQuota(q)).isEmpty();
    assertThat(new ResourceUsage(10, 50, 21, 3, 0, 0, 300.5).exceedsQuota(q)).contains(QuotaViolation.TIMEOUT_EXCEEDED);
    assertThat(new ResourceUsage(11, 51, 22, 4, 0, 0, 301).exceedsQuota(q)).contains(QuotaViolation.MAX_LLM_CALLS_EXCEEDED);
    assertThat(new ResourceUsage(0, 0, 22, 4, 0, 0, 0).exceedsQuota(q)).contains(QuotaViolation.MAX_AGENT_HOPS_EXCEEDED);
  }

  @Test
  void quotaViolation_codes() {
    assertThat(QuotaViolation.TIMEOUT_EXCEEDED.code()).isEqualTo("timeout_exceeded");
    assertThat(QuotaViolation.MAX_CONTEXT_TOKENS_EXCEEDED.code()).isEqualTo("max_context_tokens_exceeded");
    for (QuotaViolation v : QuotaViolation.values()) {
      assertThat(v.code()).isEqualTo(v.name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  @Test
  void rateLimitResult_inconsistentFields_rejected() {
    assertThatThrownBy(() -> new RateLimitResult(true, LimitType.MINUTE, 1, 1, 0, 0, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RateLimitResult(false, null, 1, 1, 0, 1, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    RateLimitResult rejected = RateLimitResult.rejected(LimitType.HOUR, 5, 5, 3600.0);
    assertThat(rejected.exceeded()).isTrue();
    assertThat(rejected.reason()).isEqualTo("Rate limit exceeded: 5/5 requests per hour");
  }

  @Test
  void rateLimiterBuilder_badOrRepeatedSettings_throwClearly() {
    assertThatThrownBy(() -> RateLimiter.builder().maximumKeys(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("maximumKeys must be >= 1 but was 0");
    assertThatThrownBy(() -> RateLimiter.builder().bucketCount(7))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("bucketCount must be a divisor of 1000 but was 7");
    assertThatThrownBy(() -> RateLimiter.builder().maximumKeys(5).maximumKeys(6))
        .isInstanceOf(IllegalStateException.class).hasMessage("maximumKeys was already set to 5");
    assertThatThrownBy(() -> RateLimiter.builder().clock(null))
        .isInstanceOf(NullPointerException.class).hasMessage("clock must not be null");
    assertThatThrownBy(() -> ResourceTracker.builder().defaultQuota(ResourceQuota.defaults()).defaultQuota(ResourceQuota.defaults()))
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("defaultQuota was already set to");
  }

  @Test
  void factories_useDefaults() {
    assertThat(RateLimiter.create().getConfig("anyone")).isEqualTo(RateLimitConfig.defaults());
    RateLimitConfig custom = RateLimitConfig.builder().requestsPerMinute(1).build();
    assertThat(RateLimiter.create(custom).getConfig("anyone", "/x")).isEqualTo(custom);
    ResourceTracker tracker = ResourceTracker.create(ResourceQuota.builder().maxLlmCalls(2).build());
    tracker.recordUsage("p", 1, 0, 0, 0, 0);
    assertThat(tracker.getQuota("p").orElseThrow().maxLlmCalls()).isEqualTo(2);
  }
}
