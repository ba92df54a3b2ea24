package dev.controltower.resources;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random arrival patterns on a fake clock, checked three ways: against a straightforward model of
 * semantics.md (same decisions, same waits), against the guarantee that no interval of length W ever
 * holds more than {@code limit} admissions, and against the promise that waiting exactly
 * {@code retryAfterSeconds} after a rejection gets a request admitted.
 */
class SlidingWindowPropertyTest {
  private static final int EVENTS = 120_000;

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of(10, new RateLimitConfig(5, 0, 0, 0), 1L),
        Arguments.of(10, new RateLimitConfig(7, 40, 0, 3), 2L),
        Arguments.of(1, new RateLimitConfig(4, 20, 0, 0), 3L),
        Arguments.of(4, new RateLimitConfig(12, 30, 200, 2), 4L),
        Arguments.of(25, new RateLimitConfig(1, 0, 0, 0), 5L),
        Arguments.of(10, new RateLimitConfig(0, 9, 15, 0), 6L),
        Arguments.of(100, new RateLimitConfig(15, 0, 0, 2), 7L));
  }

  @ParameterizedTest(name = "buckets={0} config={1}")
  @MethodSource("configs")
  void checkRateLimit_randomArrivals_matchesModelAndHoldsEveryWindow(int buckets, RateLimitConfig config, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    FakeClock clock = FakeClock.atMillis(1_700_000_000_000L + random.nextInt(1_000_000));
    RateLimiter limiter = RateLimiter.builder().defaultConfig(config).clock(clock).bucketCount(buckets).build();
    String[] keys = {"alice", "bob", "carol"};
    Map<String, Model> models = new HashMap<>();
    Map<String, List<Long>> admitted = new HashMap<>();
    for (String k : keys) {
      models.put(k, new Model(config, buckets));
      admitted.put(k, new ArrayList<>());
    }
    int rejections = 0;
    int retriesChecked = 0;
    for (int i = 0; i < EVENTS; i++) {
      clock.advanceMillis(nextGap(random));
      String key = keys[random.nextInt(keys.length)];
      long now = clock.millis();
      RateLimitResult actual = limiter.checkRateLimit(key, "/e");
      Model model = models.get(key);
      Model.Verdict expected = model.check(now);
      assertThat(actual.allowed()).as("event %d at %d on %s", i, now, key).isEqualTo(expected.allowed());
      if (actual.allowed()) {
        admitted.get(key).add(now);
        assertThat(actual.remaining()).as("remaining at event %d", i).isEqualTo(expected.remaining());
        continue;
      }
      rejections++;
      assertThat(actual.limitType()).as("window at event %d", i).isEqualTo(expected.window());
      assertThat(Math.round(actual.retryAfterSeconds() * 1000)).as("wait at event %d", i)
          .isEqualTo(expected.waitMillis());
      if (random.nextInt(4) == 0) {
        // The client waits exactly the advertised time; nothing else touches its key meanwhile.
        clock.advanceMillis(Math.round(actual.retryAfterSeconds() * 1000));
        long retryAt = clock.millis();
        RateLimitResult retry = limiter.checkRateLimit(key, "/e");
        assertThat(retry.allowed()).as("retry after %s s at event %d", actual.retryAfterSeconds(), i).isTrue();
        assertThat(model.check(retryAt).allowed()).isTrue();
        admitted.get(key).add(retryAt);
        retriesChecked++;
      }
    }
    assertThat(rejections).as("the pattern must exercise rejections").isGreaterThan(1_000);
    assertThat(retriesChecked).isGreaterThan(100);
    for (Map.Entry<String, List<Long>> e : admitted.entrySet()) {
      for (LimitType type : LimitType.values()) {
        int limit = config.limitFor(type);
        if (limit > 0) {
          assertNoIntervalHoldsMoreThan(e.getValue(), limit, type.windowMillis(), e.getKey() + " " + type);
        }
      }
    }
  }

  /** In any closed interval [x, x + W] at most {@code limit} admissions: a[i + limit] - a[i] > W. */
  private static void assertNoIntervalHoldsMoreThan(List<Long> times, int limit, long windowMillis, String what) {
    for (int i = 0; i + limit < times.size(); i++) {
      long span = times.get(i + limit) - times.get(i);
      if (span <= windowMillis) {
        throw new AssertionError(what + ": " + (limit + 1) + " admissions within " + span
            + " ms, starting at " + times.get(i));
      }
    }
  }

  private static long nextGap(SplittableRandom random) {
    int kind = random.nextInt(100);
    if (kind < 20) {
      return 0;
    } else if (kind < 50) {
      return random.nextInt(200);
    } else if (kind < 80) {
      return random.nextInt(10_000);
    } else if (kind < 96) {
      return random.nextInt(600_000);
    }
    return random.nextLong(7_200_000);
  }

  /** semantics.md, written as plainly as possible: a list of admitted times per window. */
  private static final class Model {
    record Verdict(boolean allowed, long remaining, LimitType window, long waitMillis) {}

    private final RateLimitConfig config;
    private final int buckets;
    private final List<Long> times = new ArrayList<>();

    Model(RateLimitConfig config, int buckets) {
      this.config = config;
      this.buckets = buckets;
    }

    private List<Long> live(LimitType type, long now) {
      long size = type.windowMillis() / buckets;
      long cur = Math.floorDiv(now, size);
      List<Long> live = new ArrayList<>();
      for (long t : times) {
        if (Math.floorDiv(t, size) >= cur - buckets) {
          live.add(t);
        }
      }
      return live;
    }

    Verdict check(long now) {
      LimitType refusing = null;
      long longestWait = -1;
      for (LimitType type : LimitType.values()) {
        int limit = config.limitFor(type);
        if (limit <= 0) {
          continue;
        }
        List<Long> live = live(type, now);
        if (live.size() >= limit) {
          long size = type.windowMillis() / buckets;
          long needed = live.size() - limit + 1;
          long bucket = Math.floorDiv(live.get((int) needed - 1), size);
          long wait = (bucket + buckets + 1) * size - now;
          if (wait > longestWait) {
            longestWait = wait;
            refusing = type;
          }
        }
      }
      if (refusing != null) {
        return new Verdict(false, 0, refusing, longestWait);
      }
      times.add(now);
      long remaining = Long.MAX_VALUE;
      for (LimitType type : LimitType.values()) {
        int limit = config.limitFor(type);
        if (limit > 0) {
          remaining = Math.min(remaining, Math.max(0, limit - live(type, now).size()));
        }
      }
      // Forget what no window can count any more, to keep the model fast.
      long horizon = now - 2 * LimitType.DAY.windowMillis();
      times.removeIf(t -> t < horizon);
      return new Verdict(true, remaining, null, 0);
    }
  }
}
