package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.kit.FakeClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Token budgets and concurrency slots through the gate (http.md): the token fields, the token 429 of a
 * refused reservation, settlement by the next LLM call, refunds and the slot's return at release, the
 * concurrency 429; and 10,000 mixed requests on 32 threads that never hold more slots than the limit.
 */
class RequestGateTokensTest {
  private static final String PK = ";pk=:N6juwc4ZaH0T:"; // of "default"
  private final FakeClock clock = FakeClock.atSeconds(100);
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();

  private RequestGate gate(RateLimitConfig config) {
    RateLimiter limiter = RateLimiter.builder().defaultConfig(config).clock(clock).build();
    return RequestGate.builder().settings(HttpSettings.fromMap(Map.of("max-llm-calls", "3"))).rateLimiter(limiter)
        .resourceTracker(tracker).build();
  }

  private static RateLimitConfig tokens(long perMinute) {
    return RateLimitConfig.builder().requestsPerMinute(100).requestsPerHour(0).requestsPerDay(0)
        .tokensPerMinute(perMinute).build();
  }

  private static long tokensCounted(RequestGate gate) {
    return gate.rateLimiter().getUsage("user:a", "default").get(LimitType.TOKENS_MINUTE).current();
  }

  @Test
  void fromMap_tokenAndConcurrencyParameters_parsedIntoTheDefaultConfig() {
    HttpSettings s = HttpSettings.fromMap(Map.of("tokens-per-minute", "20_000", "tokens-per-hour", "5000000000",
        "tokens-per-day", "0", "max-concurrent-requests", "2"));
    assertThat(s.rateLimit()).isEqualTo(RateLimitConfig.builder().tokensPerMinute(20_000).tokensPerHour(5_000_000_000L)
        .maxConcurrentRequests(2).build());
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("tokens-per-minute", "-5")))
        .hasMessage("tokens-per-minute must be >= 0 but was -5");
    assertThatThrownBy(() -> HttpSettings.fromMap(Map.of("max-concurrent-requests", "two")))
        .hasMessage("max-concurrent-requests must be a whole number >= 0 but was 'two'");
  }

  @Test
  void duration_inOpenAisForm() {
    assertThat(RateLimitHeaders.duration(0)).isEqualTo("0s");
    assertThat(RateLimitHeaders.duration(250)).isEqualTo("250ms");
    assertThat(RateLimitHeaders.duration(1000)).isEqualTo("1s");
    assertThat(RateLimitHeaders.duration(1500)).isEqualTo("1.5s");
    assertThat(RateLimitHeaders.duration(59_750)).isEqualTo("59.75s");
    assertThat(RateLimitHeaders.duration(360_000)).isEqualTo("6m0s");
    assertThat(RateLimitHeaders.duration(61_001)).isEqualTo("1m1.001s");
    assertThat(RateLimitHeaders.duration(3_600_000)).isEqualTo("1h0m0s");
    assertThat(RateLimitHeaders.duration(86_400_000)).isEqualTo("24h0m0s");
  }

  @Test
  void admit_endpointWithTokenWindows_carriesTheTokenFieldsOfTheTightestWindow() {
    RequestGate gate = gate(tokens(20_000));
    Admission first = gate.admit("user:a", "default", null);
    assertThat(HeaderFields.value(first.headers(), "x-ratelimit-limit-tokens")).isEqualTo("20000");
    assertThat(HeaderFields.value(first.headers(), "x-ratelimit-remaining-tokens")).isEqualTo("20000");
    assertThat(HeaderFields.value(first.headers(), "x-ratelimit-reset-tokens")).isEqualTo("0s");
    assertThat(HeaderFields.value(first.headers(), "RateLimit-Policy")).as("token windows are no draft policy")
        .isEqualTo("\"minute\";q=100;w=60" + PK);
    assertThat(first.headers().get(first.headers().size() - 1).name()).isEqualTo("X-Process-Id");
    first.process().recordLlmCall(800, 200);
    gate.release(first.process());
    clock.setSeconds(100.25);
    Admission second = gate.admit("user:a", "default", null);
    assertThat(HeaderFields.value(second.headers(), "x-ratelimit-remaining-tokens")).isEqualTo("19000");
    assertThat(HeaderFields.value(second.headers(), "x-ratelimit-reset-tokens")).isEqualTo("59.75s");
    assertThat(HeaderFields.value(gate(RateLimitConfig.defaults()).admit("user:a", "default", null).headers(),
        "x-ratelimit-limit-tokens")).as("no token window, no token field").isNull();
  }

  @Test
  void reserveTokens_refused_throwsTheRateLimit429OfTheTokenWindow() {
    RequestGate gate = gate(tokens(20_000));
    Admission a = gate.admit("user:a", "default", null);
    a.process().reserveTokens(15_000);
    clock.setSeconds(110);
    assertThatThrownBy(() -> a.process().reserveTokens(6_000)).isInstanceOfSatisfying(TokenLimitExceededException.class,
        e -> {
          ProblemResponse p = e.problem();
          assertThat(p.status()).isEqualTo(429);
          assertThat(p.headers()).containsExactly(
              new HeaderField("RateLimit-Policy", "\"minute\";q=100;w=60" + PK),
              new HeaderField("Retry-After", "50"),
              new HeaderField("x-ratelimit-limit-tokens", "20000"),
              new HeaderField("x-ratelimit-remaining-tokens", "0"),
              new HeaderField("x-ratelimit-reset-tokens", "50s"),
              new HeaderField("Cache-Control", "no-store"));
          assertThat(p.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
              + "\"title\":\"Too Many Requests\",\"status\":429,"
              + "\"detail\":\"Token limit exceeded: 15000/20000 tokens per minute, and this call reserves 6000\","
              + "\"limit_type\":\"tokens-minute\",\"limit\":20000,\"current\":15000,\"retry_after\":50,"
              + "\"violated-policies\":[\"tokens-minute\"]}");
          assertThat(RequestLimitException.findIn(new RuntimeException(e))).isSameAs(e);
        });
    assertThat(a.process().tokenRefusal()).isPresent();
    assertThat(tokensCounted(gate)).isEqualTo(15_000);
    gate.release(a.process());
    assertThat(tokensCounted(gate)).as("the unsettled reservation is given back at release").isZero();
  }

  @Test
  void reserveTokens_aboveTheLimit_429WithoutRetryAfterAndATypeThatSaysSo() {
    RequestGate gate = gate(tokens(1_000));
    Admission a = gate.admit("user:a", "default", null);
    assertThatThrownBy(() -> a.process().reserveTokens(5_000)).isInstanceOfSatisfying(TokenLimitExceededException.class,
        e -> {
          assertThat(HeaderFields.value(e.problem().headers(), "Retry-After")).isNull();
          assertThat(e.problem().body()).startsWith("{\"type\":\"" + ProblemResponse.NEVER_ADMITTED_TYPE + "\"")
              .doesNotContain("retry_after");
        });
  }

  @Test
  void recordLlmCall_settlesThePendingReservation_withoutOneDebits() {
    RequestGate gate = gate(tokens(20_000));
    Admission a = gate.admit("user:a", "default", null);
    a.process().reserveTokens(5_000);
    a.process().reserveTokens(3_000);
    assertThat(tokensCounted(gate)).isEqualTo(8_000);
    a.process().recordLlmCall(1_000, 500); // settles the 5,000
    assertThat(tokensCounted(gate)).isEqualTo(4_500);
    a.process().recordLlmCall(3_000, 1_000); // settles the 3,000 with 4,000: overshoots by 1,000
    assertThat(tokensCounted(gate)).isEqualTo(5_500);
    a.process().recordLlmCall(100, 100); // nothing pending: a debit
    a.process().recordTokens(0, 300); // streamed output: a debit
    assertThat(tokensCounted(gate)).isEqualTo(6_000);
    gate.release(a.process());
    assertThat(tokensCounted(gate)).isEqualTo(6_000);
  }

  @Test
  void recordLlmCall_overTheQuota_stillCountsTheTokensAndReleaseRefundsTheRest() {
    RequestGate gate = gate(tokens(20_000));
    Admission a = gate.admit("user:a", "default", null);
    for (int i = 0; i < 3; i++) {
      a.process().recordLlmCall(10, 10);
    }
    a.process().reserveTokens(1_000);
    a.process().reserveTokens(2_000);
    assertThatThrownBy(() -> a.process().recordLlmCall(100, 0)).isInstanceOf(QuotaExceededException.class);
    assertThat(tokensCounted(gate)).isEqualTo(60 + 100 + 2_000);
    gate.release(a.process());
    assertThat(tokensCounted(gate)).isEqualTo(160);
  }

  @Test
  void admit_concurrencyLimitReached_429ConcurrentRequestsPolicyRetryAfterOne_countingNothing() {
    RequestGate gate = gate(RateLimitConfig.builder().requestsPerMinute(100).requestsPerHour(0).requestsPerDay(0)
        .maxConcurrentRequests(2).build());
    Admission one = gate.admit("user:a", "default", null);
    Admission two = gate.admit("user:a", "default", null);
    assertThat(HeaderFields.value(one.headers(), "RateLimit-Policy"))
        .isEqualTo("\"minute\";q=100;w=60" + PK + ", \"concurrency\";q=2;qu=\"concurrent-requests\"" + PK);
    Admission refused = gate.admit("user:a", "default", null);
    assertThat(refused.admitted()).isFalse();
    ProblemResponse p = refused.rejection();
    assertThat(p.status()).isEqualTo(429);
    assertThat(p.headers()).containsExactly(
        new HeaderField("RateLimit-Policy",
            "\"minute\";q=100;w=60" + PK + ", \"concurrency\";q=2;qu=\"concurrent-requests\"" + PK),
        new HeaderField("RateLimit", "\"concurrency\";r=0;t=1" + PK),
        new HeaderField("Retry-After", "1"),
        new HeaderField("Cache-Control", "no-store"));
    assertThat(p.body()).isEqualTo("{\"type\":\"urn:controltower:problem:rate-limit-exceeded\","
        + "\"title\":\"Too Many Requests\",\"status\":429,"
        + "\"detail\":\"Concurrency limit exceeded: 2/2 requests running\",\"limit_type\":\"concurrency\","
        + "\"limit\":2,\"current\":2,\"retry_after\":1,\"violated-policies\":[\"concurrency\"]}");
    assertThat(gate.rateLimiter().getUsage("user:a", "default").get(LimitType.MINUTE).current())
        .as("a refused slot counts no request").isEqualTo(2);
    assertThat(gate.rateLimiter().getUsage("user:a", "default").get(LimitType.CONCURRENCY).current()).isEqualTo(2);
    gate.release(one.process());
    assertThat(gate.admit("user:a", "default", null).admitted()).isTrue();
    gate.release(two.process());
  }

  @Test
  void admit_rateLimitedWhileASlotIsFree_returnsTheSlot() {
    RequestGate gate = gate(RateLimitConfig.builder().requestsPerMinute(1).requestsPerHour(0).requestsPerDay(0)
        .maxConcurrentRequests(1).build());
    gate.release(gate.admit("user:a", "default", null).process());
    assertThat(gate.admit("user:a", "default", null).rejection().body()).contains("\"limit_type\":\"minute\"");
    assertThat(gate.rateLimiter().getUsage("user:a", "default").get(LimitType.CONCURRENCY).current()).isZero();
  }

  @Test
  void admit_10000MixedRequestsOn32Threads_neverMoreThanTheLimitRunning_andNoneHeldAfter() throws Exception {
    int max = 4;
    RequestGate gate = gate(RateLimitConfig.builder().requestsPerMinute(0).requestsPerHour(0).requestsPerDay(0)
        .tokensPerMinute(5_000_000).maxConcurrentRequests(max).build());
    AtomicInteger running = new AtomicInteger();
    AtomicInteger highest = new AtomicInteger();
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger[] endings = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
    ExecutorService pool = Executors.newFixedThreadPool(32);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> threads = new ArrayList<>();
      for (int t = 0; t < 32; t++) {
        long seed = t;
        threads.add(pool.submit(() -> {
          SplittableRandom random = new SplittableRandom(seed);
          start.await();
          for (int i = 0; i < 10_000 / 32 + 1; i++) {
            Admission a = gate.admit("user:a", "default", null);
            if (!a.admitted()) {
              continue;
            }
            admitted.incrementAndGet();
            ProcessContext process = a.process();
            int kind = random.nextInt(4);
            try {
              highest.accumulateAndGet(running.incrementAndGet(), Math::max);
              process.reserveTokens(1 + random.nextInt(500));
              LockSupport.parkNanos(random.nextInt(50_000));
              switch (kind) {
                case 0 -> process.recordLlmCall(random.nextInt(200), random.nextInt(200)); // completes
                case 1 -> throw new IllegalStateException("the handler failed");
                case 2 -> {
                  for (int call = 0; call < 4; call++) {
                    process.recordLlmCall(1, 1); // the 4th is over max-llm-calls 3
                  }
                }
                default -> process.reserveTokens(6_000_000); // refused: a token 429
              }
            } catch (IllegalStateException | RequestLimitException ended) {
              endings[kind].incrementAndGet();
            } finally {
              running.decrementAndGet();
              gate.release(process);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : threads) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(highest.get()).as("most requests running at once").isLessThanOrEqualTo(max);
    assertThat(endings[1].get()).isPositive();
    assertThat(endings[2].get()).isPositive();
    assertThat(endings[3].get()).isPositive();
    assertThat(gate.rateLimiter().getUsage("user:a", "default").get(LimitType.CONCURRENCY).current()).isZero();
    assertThat(tracker.getSystemUsage().activeProcesses()).isZero();
    System.out.printf("gate: %d of %d admitted, at most %d running at once (limit %d); exceptions %d, quota %d,"
        + " token 429 %d%n", admitted.get(), 32 * (10_000 / 32 + 1), highest.get(), max, endings[1].get(),
        endings[2].get(), endings[3].get());
  }
}
