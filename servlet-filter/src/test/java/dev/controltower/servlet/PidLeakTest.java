package dev.controltower.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.ControlTowerListener;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** No pid outlives its request, however the request ends. */
class PidLeakTest {

  /**
   * With the pid sent in a header every admitted request is tracked at once; with none, only the 2,000
   * that record usage (the two {@code llm} kinds) are, at their first recording.
   */
  @ParameterizedTest
  @CsvSource({"X-Process-Id, 10000", "none, 2000"})
  void tenThousandMixedRequests_activeProcessesBackToZero(String pidHeader, long tracked) throws Exception {
    AtomicInteger started = new AtomicInteger();
    AtomicInteger ended = new AtomicInteger();
    RateLimiter limiter = RateLimiter.builder().defaultConfig(RateLimitConfig.builder()
        .requestsPerMinute(1_000_000).requestsPerHour(1_000_000).requestsPerDay(1_000_000).build())
        .listener(new ControlTowerListener() {
          @Override
          public void onProcessStarted(String endpoint) {
            started.incrementAndGet();
          }

          @Override
          public void onProcessEnded(String endpoint, long durationNanos) {
            ended.incrementAndGet();
          }
        }).build();
    ResourceTracker tracker = ResourceTracker.create();
    EmbeddedJetty jetty = EmbeddedJetty.start(new RateLimitFilter(limiter, tracker),
        Map.of("max-llm-calls", "2", "process-id-header", pidHeader));
    // Async timeouts of 250 ms: with 5 ms, Jetty 12.1.14 itself leaves about 1 in 1,000 such requests
    // unanswered (seen with a pass-through filter in place of ours), which would hang the client; on a
    // loaded machine 20 ms was seen to do it too. The timeout must outlast the first dispatch.
    String[] kinds = {"", "?throw=runtime", "?throw=servlet", "?async=timeout&timeout=250", "?llm=3",
        "?async=complete", "?async=dispatch", "?forward=/b", "?llm=2&tool=3", "?error=500"};
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    try {
      Semaphore inFlight = new Semaphore(32);
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        inFlight.acquire();
        HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + jetty.port() + "/r/" + i + kinds[i % kinds.length]))
            .timeout(Duration.ofSeconds(30)).build();
        all.add(client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
            .whenComplete((response, failure) -> {
              if (failure != null) {
                System.out.println("FAILED " + request.uri() + " " + failure);
              }
              inFlight.release();
              int status = failure == null ? response.statusCode() : -1;
              statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
            }));
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).exceptionally(t -> null).join();

      ActiveProcesses.awaitNone(tracker, Duration.ofSeconds(20));
    } finally {
      jetty.close();
    }

    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    assertThat(tracker.getSystemUsage().totalProcesses()).isEqualTo(tracked);
    // Tracked or not, every admitted request's process ends once (the 429s are quota violations of
    // admitted requests).
    assertThat(started.get()).isEqualTo(10_000);
    assertThat(ended.get()).isEqualTo(10_000);
    assertThat(statuses.get(429).get()).isEqualTo(1_000);
    assertThat(statuses.get(500).get()).isEqualTo(4_000); // two throws, the async timeout, the error
    assertThat(statuses.get(200).get()).isEqualTo(5_000);
    assertThat(statuses).doesNotContainKey(-1);
  }
}
