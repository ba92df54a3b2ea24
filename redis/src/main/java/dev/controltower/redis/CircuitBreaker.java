package dev.controltower.redis;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Stops calling a Redis that keeps failing. Closed (calls go through) until {@code threshold}
 * consecutive calls fail; then open for {@code probeAfterNanos}, when calls are not made at all; then
 * one call at a time is let through as a probe: if it succeeds the breaker closes, if it fails it
 * opens again for another delay. Thread-safe, lock-free; its time is a nanosecond ticker.
 */
final class CircuitBreaker {
  /** What changed, for the one log line per change. */
  enum Change { NONE, OPENED, CLOSED }

  private final int threshold;
  private final long probeAfterNanos;
  private final LongSupplier ticker;
  private final AtomicInteger failures = new AtomicInteger();
  /** 0 while closed; else the ticker value from which the next probe may go. */
  private final AtomicLong openUntil = new AtomicLong();
  /** Whether a probe is out; only one at a time. */
  private final AtomicInteger probing = new AtomicInteger();
  private volatile boolean open;

  CircuitBreaker(int threshold, long probeAfterNanos, LongSupplier ticker) {
    this.threshold = threshold;
    this.probeAfterNanos = probeAfterNanos;
    this.ticker = ticker;
  }

  /**
   * Whether this call may go to Redis. When it returns true while the breaker is open, the caller is
   * the probe and must report {@link #success} or {@link #failure}.
   */
  boolean allow() {
    if (!open) {
      return true;
    }
    if (ticker.getAsLong() - openUntil.get() < 0) {
      return false;
    }
    return probing.compareAndSet(0, 1);
  }

  /** Reports a call that Redis answered. */
  Change success() {
    failures.set(0);
    if (!open) {
      return Change.NONE;
    }
    synchronized (this) {
      if (!open) {
        return Change.NONE;
      }
      open = false;
      probing.set(0);
      return Change.CLOSED;
    }
  }

  /** Reports a call that failed or timed out. */
  Change failure() {
    if (open) {
      synchronized (this) {
        if (open) {
          openUntil.set(ticker.getAsLong() + probeAfterNanos);
          probing.set(0);
        }
      }
      return Change.NONE;
    }
    if (failures.incrementAndGet() < threshold) {
      return Change.NONE;
    }
    synchronized (this) {
      if (open) {
        return Change.NONE;
      }
      openUntil.set(ticker.getAsLong() + probeAfterNanos);
      probing.set(0);
      open = true;
      return Change.OPENED;
    }
  }

  boolean isOpen() {
    return open;
  }

  /** Nanoseconds until the next probe may go; 0 when closed or due. */
  long nanosUntilProbe() {
    if (!open) {
      return 0;
    }
    return Math.max(0, openUntil.get() - ticker.getAsLong());
  }
}
