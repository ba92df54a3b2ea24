package dev.controltower.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.QuotaViolation;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The binding on its own: names, tags, bounds. */
class ControlTowerMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void bindTo_fresh_registersFixedMetersAtZero() {
    new ControlTowerMetrics().bindTo(registry);

    assertThat(registry.get(ControlTowerMetrics.PROCESSES_ACTIVE).gauge().value()).isZero();
    assertThat(registry.get(ControlTowerMetrics.QUOTA_VIOLATIONS).counters()).hasSize(QuotaViolation.values().length);
    assertThat(registry.get(ControlTowerMetrics.TOKENS).tag("direction", "debit").counter().count()).isZero();
    assertThat(registry.get(ControlTowerMetrics.TOKENS).tag("direction", "refund").counter().count()).isZero();
    assertThat(registry.find(ControlTowerMetrics.REQUESTS).meters()).isEmpty();
  }

  @Test
  void events_beforeBind_areNotCountedAndBindingTwiceElsewhereFails() {
    ControlTowerMetrics metrics = new ControlTowerMetrics();
    metrics.onAdmitted("/a", LimitType.MINUTE);
    metrics.bindTo(registry);
    metrics.bindTo(registry); // the same registry again: nothing happens
    metrics.onAdmitted("/a", LimitType.MINUTE);

    assertThat(registry.get(ControlTowerMetrics.REQUESTS).functionCounter().count()).isEqualTo(1.0);
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already bound");
  }

  /**
   * An application endpoint that is named {@code other} and one past the bound both have the tag
   * endpoint=other: one series, which must count both (two series under one id would leave the
   * registry reading only the first one registered).
   */
  @Test
  void endpointNamedOther_andEndpointsPastTheBound_countInTheOneOtherSeries() {
    ControlTowerMetrics metrics = new ControlTowerMetrics(2, Tags.empty());
    metrics.bindTo(registry);
    metrics.onAdmitted(ControlTowerMetrics.OTHER, LimitType.MINUTE);
    metrics.onAdmitted("/a", LimitType.MINUTE);
    metrics.onAdmitted("/b", LimitType.MINUTE);
    metrics.onAdmitted("/c", LimitType.MINUTE); // past the bound of 2

    assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "other").tag("outcome", "admitted")
        .functionCounter().count()).as("the endpoint named other, and /c").isEqualTo(2.0);
    assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "/b").functionCounter().count())
        .isEqualTo(1.0);
    assertThat(registry.find(ControlTowerMetrics.REQUESTS).functionCounters().stream().mapToDouble(c -> c.count())
        .sum()).as("every decision is seen in some series").isEqualTo(4.0);
  }

  @Test
  void endpoints_pastTheBound_countAsOther() {
    ControlTowerMetrics metrics = new ControlTowerMetrics(3, Tags.of("app", "t"));
    metrics.bindTo(registry);
    for (int i = 0; i < 10; i++) {
      metrics.onAdmitted("/e" + i, LimitType.MINUTE);
      metrics.onRejected("/e" + i, null);
      metrics.onProcessEnded("/e" + i, 1_000_000);
      metrics.onConcurrencyRejected("/e" + i);
    }
    metrics.onAdmitted("/e1", LimitType.MINUTE);

    assertThat(registry.find(ControlTowerMetrics.REQUESTS).meters()).extracting(m -> m.getId().getTag("endpoint"))
        .containsOnly("/e0", "/e1", "/e2", ControlTowerMetrics.OTHER);
    assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "other").tag("outcome", "admitted").functionCounter()
        .count()).isEqualTo(7.0);
    assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("endpoint", "/e1").tag("outcome", "admitted").functionCounter()
        .count()).isEqualTo(2.0);
    assertThat(registry.get(ControlTowerMetrics.REQUESTS).tag("outcome", "rejected").tag("endpoint", "/e0").functionCounter()
        .getId().getTag("window")).isEqualTo("none");
    assertThat(registry.get(ControlTowerMetrics.PROCESS_DURATION).tag("endpoint", "other").timer()
        .totalTime(TimeUnit.MILLISECONDS)).isEqualTo(7.0);
    assertThat(registry.get(ControlTowerMetrics.CONCURRENCY_REJECTIONS).counters()).hasSize(4);
    for (Meter m : registry.getMeters()) {
      assertThat(m.getId().getTag("app")).as(m.getId().toString()).isEqualTo("t");
    }
  }

  @Test
  void storeEvents_manyNames_areCappedPerTag() {
    ControlTowerMetrics metrics = new ControlTowerMetrics();
    metrics.bindTo(registry);
    for (int i = 0; i < 40; i++) {
      metrics.onStoreFallback(i % 2 == 0 ? "local" : "mode-" + i);
      metrics.onBreakerStateChanged("open");
      metrics.onStoreLatency("op-" + i, 2_000_000);
    }
    metrics.onTokensDebited("/llm", 120);
    metrics.onTokensRefunded("/llm", 20);
    metrics.onQuotaViolation("/llm", QuotaViolation.TIMEOUT_EXCEEDED);

    assertThat(registry.get(ControlTowerMetrics.STORE_FALLBACKS).tag("mode", "local").counter().count()).isEqualTo(20.0);
    assertThat(registry.get(ControlTowerMetrics.STORE_FALLBACKS).counters())
        .hasSize(ControlTowerMetrics.MAX_STORE_VALUES + 1);
    assertThat(registry.get(ControlTowerMetrics.STORE_BREAKER_TRANSITIONS).tag("state", "open").counter().count())
        .isEqualTo(40.0);
    assertThat(registry.get(ControlTowerMetrics.STORE_LATENCY).timers()).hasSize(ControlTowerMetrics.MAX_STORE_VALUES + 1);
    assertThat(registry.get(ControlTowerMetrics.STORE_LATENCY).tag("operation", "other").timer().count())
        .isEqualTo(40 - ControlTowerMetrics.MAX_STORE_VALUES);
    assertThat(registry.get(ControlTowerMetrics.TOKENS).tag("direction", "debit").counter().count()).isEqualTo(120.0);
    assertThat(registry.get(ControlTowerMetrics.TOKENS).tag("direction", "refund").counter().count()).isEqualTo(20.0);
    assertThat(registry.get(ControlTowerMetrics.QUOTA_VIOLATIONS).tag("reason", "timeout_exceeded").counter().count())
        .isEqualTo(1.0);
  }

  @Test
  void processes_startedAndEnded_moveTheGauge() {
    ControlTowerMetrics metrics = new ControlTowerMetrics();
    metrics.bindTo(registry);
    metrics.onProcessStarted("/a");
    metrics.onProcessStarted("/a");
    metrics.onProcessEnded("/a", 5);

    assertThat(registry.get(ControlTowerMetrics.PROCESSES_ACTIVE).gauge().value()).isEqualTo(1.0);
  }
}
