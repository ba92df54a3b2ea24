package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.WindowPlan;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store's own events reach the listener (and so the metrics): one fallback per fail-mode
 * decision, one breaker change each way, a latency per script call.
 */
class RedisStoreEventsTest {
  private RedisServer redis;

  @BeforeEach
  void start() {
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() {
    redis.close();
  }

  @Test
  void listener_killAndRestart_seesFallbacksBreakerChangesAndLatencies() throws Exception {
    List<String> fallbacks = new CopyOnWriteArrayList<>();
    List<String> breaker = new CopyOnWriteArrayList<>();
    AtomicLong latencies = new AtomicLong();
    ControlTowerListener listener = new ControlTowerListener() {
      @Override
      public void onStoreFallback(String mode) {
        fallbacks.add(mode);
      }

      @Override
      public void onBreakerStateChanged(String state) {
        breaker.add(state);
      }

      @Override
      public void onStoreLatency(String operation, long durationNanos) {
        assertThat(operation).isEqualTo("eval");
        assertThat(durationNanos).isPositive();
        latencies.incrementAndGet();
      }
    };
    WindowPlan plan = WindowPlan.of(RateLimitConfig.builder().requestsPerMinute(1_000).build(), 10);
    try (RedisWindowStore store = RedisWindowStore.builder().uri(redis.uri()).timeout(Duration.ofSeconds(1))
        .circuitBreaker(3, Duration.ofMillis(200)).listener(listener).build()) {
      for (int i = 0; i < 20; i++) {
        assertThat(store.acquire("u", "/e", plan, 1, 0).admitted()).isTrue();
      }
      assertThat(latencies.get()).as("one latency per script call").isEqualTo(20);
      assertThat(fallbacks).isEmpty();

      redis.kill();
      for (int i = 0; i < 10; i++) {
        store.acquire("u", "/e", plan, 1, 0); // answered by the local fallback
      }
      assertThat(fallbacks).hasSize(10).containsOnly("local");
      assertThat(fallbacks).hasSize((int) store.counters().localDecisions());
      assertThat(breaker).containsExactly("open");

      redis.restart();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!breaker.contains("closed") && System.nanoTime() < deadline) {
        store.acquire("u", "/e", plan, 1, 0);
        Thread.sleep(50); // the breaker probes on its own schedule (200 ms): real time is the subject here
      }
      assertThat(breaker).containsExactly("open", "closed");
    }
  }
}
