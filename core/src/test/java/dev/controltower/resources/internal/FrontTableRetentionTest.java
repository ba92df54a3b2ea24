package dev.controltower.resources.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import java.lang.reflect.Field;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The front table must not keep removed pairs reachable beyond {@code maximumKeys}: before the fix it
 * held 1,024 retired pairs (~12 MB here) with trackedKeys 0.
 */
class FrontTableRetentionTest {
  static final class Clk implements InstantSource {
    final AtomicLong ms = new AtomicLong(1_000_000_000L);
    public long millis() { return ms.get(); }
    public Instant instant() { return Instant.ofEpochMilli(ms.get()); }
  }

  @Test
  void frontTable_holdsNoRetiredPairs_andNoMoreSlotsThanMaximumKeys() throws Exception {
    Clk clock = new Clk();
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(100).burstSize(50).build())
        .clock(clock).maximumKeys(16).bucketCount(1000).build();
    String pad = "x".repeat(2000);
    for (int i = 0; i < 20_000; i++) {
      String user = pad + i;
      limiter.checkRateLimit(user, "/e");
      clock.ms.addAndGet(1);            // next burst bucket (1 ms buckets): counts in two buckets -> arrays
      limiter.checkRateLimit(user, "/e"); // opens an epoch -> front table slot
    }
    clock.ms.addAndGet(3 * 86_400_000L);
    limiter.cleanUp();
    limiter.cleanupExpired();
    limiter.cleanUp();
    Field f = MemoryWindowStore.class.getDeclaredField("front");
    f.setAccessible(true);
    WindowState[] front = (WindowState[]) f.get(((PolicyRateLimiter) limiter).store());
    Field nameF = WindowState.class.getDeclaredField("name");
    Field countsF = WindowState.class.getDeclaredField("counts");
    Field burstF = WindowState.class.getDeclaredField("burst");
    nameF.setAccessible(true);
    countsF.setAccessible(true);
    burstF.setAccessible(true);
    int retired = 0;
    long bytes = 0;
    for (WindowState s : front) {
      if (s != null && s.isRetired()) {
        retired++;
        bytes += ((byte[]) nameF.get(s)).length;
        Object c = countsF.get(s);
        if (c instanceof char[] a) bytes += 2L * a.length;
        if (c instanceof int[] a) bytes += 4L * a.length;
        int[] b = (int[]) burstF.get(s);
        if (b != null) bytes += 4L * b.length;
      }
    }
    System.out.printf("trackedKeys=%d, retired states held by the front table=%d, their arrays ~%d KB%n",
        limiter.trackedKeys(), retired, bytes / 1024);
    assertThat(limiter.trackedKeys()).isZero();
    assertThat(retired).as("retired pairs still referenced by the front table").isZero();
    assertThat(front.length).as("front table slots, maximumKeys 16").isLessThanOrEqualTo(16);
  }

  @Test
  void resetUser_clearsTheFrontTableSlotOfEveryPairItRemoves() throws Exception {
    Clk clock = new Clk();
    RateLimiter limiter = RateLimiter.builder()
        .defaultConfig(RateLimitConfig.builder().requestsPerMinute(100).build())
        .clock(clock).build();
    for (int i = 0; i < 50; i++) {
      limiter.checkRateLimit("u", "/e" + i);
      limiter.checkRateLimit("u", "/e" + i); // an open epoch: the pair is in the front table
    }
    assertThat(limiter.resetUser("u")).isEqualTo(150);
    Field f = MemoryWindowStore.class.getDeclaredField("front");
    f.setAccessible(true);
    for (WindowState s : (WindowState[]) f.get(((PolicyRateLimiter) limiter).store())) {
      assertThat(s == null || !s.isRetired()).as("retired pair %s in the front table", s).isTrue();
    }
    assertThat(limiter.checkRateLimit("u", "/e0").remaining()).isEqualTo(99);
  }
}
