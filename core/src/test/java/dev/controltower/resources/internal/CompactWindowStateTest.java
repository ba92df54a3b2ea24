package dev.controltower.resources.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The compact layout of {@link WindowState}: packed names, lazy slots, 16-bit slots that widen. */
class CompactWindowStateTest {
  private static final class Clock implements InstantSource {
    final AtomicLong millis = new AtomicLong(100_000);

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
      return millis.get();
    }
  }

  @Test
  void checkRateLimit_moreThan65535InOneBucket_countsStayExactAcrossBuckets() {
    Clock clock = new Clock();
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(200_000, 0, 0, 0)).clock(clock).build();
    limiter.checkRateLimit("u", "/e");
    clock.millis.addAndGet(6_000); // next minute bucket: the slots become explicit (16-bit)
    for (int i = 0; i < 70_000; i++) {
      assertThat(limiter.checkRateLimit("u", "/e").allowed()).isTrue();
    }
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(70_001);
    clock.millis.addAndGet(59_999); // the first request stopped counting at 160 s; the rest count until 166 s
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(70_000);
    clock.millis.addAndGet(1);
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isZero();
  }

  @Test
  void checkRateLimit_totalsAbove65535BeforeFirstBoundary_areKept() {
    Clock clock = new Clock();
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(100_000, 0, 0, 0)).clock(clock).build();
    for (int i = 0; i < 70_000; i++) {
      limiter.checkRateLimit("u", "/e");
    }
    clock.millis.addAndGet(6_000);
    limiter.checkRateLimit("u", "/e");
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(70_001);
    clock.millis.addAndGet(59_999); // the 70,000 of 100 s stopped counting at 160 s
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void checkRateLimit_nonLatin1Names_areDistinctPairsAndResetByUser() {
    Clock clock = new Clock();
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(2, 0, 0, 0)).clock(clock).build();
    limiter.checkRateLimit("\u00fcser", "/\u65e5\u672c");
    limiter.checkRateLimit("\u00fcser", "/\u65e5\u672c");
    RateLimitResult third = limiter.checkRateLimit(new String("\u00fcser"), new String("/\u65e5\u672c"));
    assertThat(third.exceeded()).isTrue();
    assertThat(limiter.checkRateLimit("\u00fcse", "r/\u65e5\u672c").allowed()).isTrue();
    assertThat(limiter.checkRateLimit("\u00fcser", "/\u65e5").allowed()).isTrue();
    assertThat(limiter.resetUser("\u00fcser")).isEqualTo(2); // one enabled window per pair
    assertThat(limiter.getUsage("\u00fcse", "r/\u65e5\u672c").get(LimitType.MINUTE).current()).isEqualTo(1);
  }

  @Test
  void checkRateLimit_threadsRaceOnOnePair_admitExactlyTheLimitWithDistinctRemaining() throws Exception {
    int limit = 10_000;
    for (int round = 0; round < 20; round++) {
      RateLimiter limiter = RateLimiter.builder()
          .defaultConfig(new RateLimitConfig(limit, limit + 5, 0, 0)).clock(new Clock()).build();
      int threads = 4;
      java.util.List<java.util.concurrent.Future<java.util.List<RateLimitResult>>> futures = new java.util.ArrayList<>();
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
      for (int t = 0; t < threads; t++) {
        futures.add(pool.submit(() -> {
          start.await();
          java.util.List<RateLimitResult> mine = new java.util.ArrayList<>();
          for (int i = 0; i < 3_000; i++) {
            mine.add(limiter.checkRateLimit("u", "/e"));
          }
          return mine;
        }));
      }
      java.util.BitSet remaining = new java.util.BitSet();
      int admitted = 0;
      for (var f : futures) {
        for (RateLimitResult r : f.get()) {
          if (r.allowed()) {
            admitted++;
            assertThat(r.limit()).isEqualTo(limit);
            assertThat(r.current() + r.remaining()).isEqualTo(limit);
            assertThat(remaining.get((int) r.remaining())).as("remaining %d twice", r.remaining()).isFalse();
            remaining.set((int) r.remaining());
          } else {
            assertThat(r.limitType()).isEqualTo(LimitType.MINUTE);
            assertThat(r.current()).isEqualTo(limit);
          }
        }
      }
      pool.shutdown();
      assertThat(admitted).isEqualTo(limit);
      assertThat(remaining.cardinality()).isEqualTo(limit);
      assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(limit);
      assertThat(limiter.getUsage("u", "/e").get(LimitType.HOUR).current()).isEqualTo(limit);
    }
  }

  @Test
  void decide_claimedWithinABucket_matchesTheLockedAnswer() {
    Clock clock = new Clock();
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(new RateLimitConfig(10, 1000, 0, 0)).clock(clock).build();
    var first = limiter.decide("u", "/e", true);             // locked: opens an epoch in bucket 16
    assertThat(first.window()).isEqualTo(LimitType.MINUTE);
    assertThat(first.resetSeconds()).isEqualTo(60);
    assertThat(first.result().remaining()).isEqualTo(9);
    clock.millis.set(101_500);
    var second = limiter.decide("u", "/e", true);            // claimed
    assertThat(second.window()).isEqualTo(LimitType.MINUTE);
    assertThat(second.resetSeconds()).isEqualTo(60);         // the bucket's latest is now 101.5: 161.5 - 101.5
    assertThat(second.result().current()).isEqualTo(2);
    assertThat(second.result().limit()).isEqualTo(10);
    assertThat(second.result().remaining()).isEqualTo(8);
    assertThat(limiter.checkRateLimit("u", "/e").remaining()).isEqualTo(7);
    clock.millis.set(106_000);                               // bucket 17: locked again
    var fourth = limiter.decide("u", "/e", true);
    assertThat(fourth.resetSeconds()).isEqualTo(56);         // bucket 16's latest, 101.5, + 60 - 106, rounded up
    assertThat(fourth.result().current()).isEqualTo(4);
    clock.millis.set(107_000);
    var fifth = limiter.decide("u", "/e", true);
    assertThat(fifth.resetSeconds()).isEqualTo(55);         // still the oldest bucket, 16: 161.5 - 107
    assertThat(fifth.result().remaining()).isEqualTo(5);
    assertThat(limiter.getUsage("u", "/e").get(LimitType.MINUTE).current()).isEqualTo(5);
    assertThat(limiter.getUsage("u", "/e").get(LimitType.HOUR).current()).isEqualTo(5);
  }

  @Test
  void windowState_equalsLookupKeyOfSamePairOnly() {
    WindowKey key = new WindowKey("ab", "c");
    WindowState state = new WindowState("ab", "c", key.hashCode(), 1);
    assertThat(key.equals(state)).isTrue();
    assertThat(state.equals(key)).isTrue();
    assertThat(state.user()).isEqualTo("ab");
    assertThat(state.endpoint()).isEqualTo("c");
    WindowKey shifted = new WindowKey("a", "bc");
    assertThat(shifted.equals(new WindowState("ab", "c", shifted.hashCode(), 1))).isFalse();
    assertThat(state.isUser("ab")).isTrue();
    assertThat(state.isUser("a")).isFalse();
  }
}
