package dev.controltower.resources.internal;

import java.time.Instant;
import java.time.InstantSource;

/**
 * An {@link InstantSource} that never goes back: the system time at construction, advanced by
 * {@link System#nanoTime()}. Elapsed times measured with it ignore wall-clock adjustments.
 * Thread-safe.
 */
public final class MonotonicClock implements InstantSource {
  private final long originMillis = System.currentTimeMillis();
  private final long originNanos = System.nanoTime();

  @Override
  public long millis() {
    return originMillis + (System.nanoTime() - originNanos) / 1_000_000L;
  }

  @Override
  public Instant instant() {
    long nanos = System.nanoTime() - originNanos;
    return Instant.ofEpochMilli(originMillis).plusNanos(nanos);
  }

  @Override
  public String toString() {
    return "MonotonicClock[origin=" + Instant.ofEpochMilli(originMillis) + "]";
  }
}
