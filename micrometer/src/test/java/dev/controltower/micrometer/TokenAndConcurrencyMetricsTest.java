package dev.controltower.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.ConcurrencyPermit;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.TokenReservation;
import dev.controltower.spi.kit.FakeClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Token debits and refunds and concurrency refusals, from a real limiter into the meters, exactly. */
class TokenAndConcurrencyMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ControlTowerMetrics metrics = new ControlTowerMetrics();
  private final RateLimiter limiter = RateLimiter.builder().clock(FakeClock.atSeconds(100)).listener(metrics)
      .defaultConfig(RateLimitConfig.builder().tokensPerMinute(1_000).maxConcurrentRequests(1).build()).build();

  @Test
  void reservationsSettlesAndDebits_countTokensByDirection() {
    metrics.bindTo(registry);
    TokenReservation less = limiter.reserveTokens("u", "/llm", 300);   // debit 300
    less.settle(120);                                                    // refund 180
    TokenReservation more = limiter.reserveTokens("u", "/llm", 100);   // debit 100
    more.settle(150);                                                    // debit 50
    limiter.recordTokens("u", "/llm", 25);                              // debit 25
    TokenReservation refused = limiter.reserveTokens("u", "/llm", 900); // refused: nothing
    assertThat(refused.granted()).isFalse();

    assertThat(registry.get(ControlTowerMetrics.TOKENS).tag("direction", "debit").counter().count()).isEqualTo(475.0);
    assertThat(registry.get(ControlTowerMetrics.TOKENS).tag("direction", "refund").counter().count()).isEqualTo(180.0);
  }

  @Test
  void permitsOverTheLimit_countOneConcurrencyRefusalEach() {
    metrics.bindTo(registry);
    ConcurrencyPermit first = limiter.acquirePermit("u", "/run", Duration.ofSeconds(30));
    assertThat(first.granted()).isTrue();
    assertThat(limiter.acquirePermit("u", "/run", Duration.ofSeconds(30)).granted()).isFalse();
    assertThat(limiter.acquirePermit("u", "/run", Duration.ofSeconds(30)).granted()).isFalse();
    first.release();
    assertThat(limiter.acquirePermit("u", "/run", Duration.ofSeconds(30)).granted()).isTrue();

    assertThat(registry.get(ControlTowerMetrics.CONCURRENCY_REJECTIONS).tag("endpoint", "/run").counter().count())
        .isEqualTo(2.0);
  }
}
