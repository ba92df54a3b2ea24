package dev.controltower.spi.kit;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test moves it. Thread-safe. */
public final class FakeClock implements InstantSource {
  private final AtomicLong millis;

  private FakeClock(long millis) {
    this.millis = new AtomicLong(millis);
  }

  public static FakeClock atSeconds(double seconds) {
    return new FakeClock(Math.round(seconds * 1000));
  }

  public static FakeClock atMillis(long millis) {
    return new FakeClock(millis);
  }

  public void setSeconds(double seconds) {
    millis.set(Math.round(seconds * 1000));
  }

  public void setMillis(long value) {
    millis.set(value);
  }

  public void advanceMillis(long delta) {
    millis.addAndGet(delta);
  }

  public void advanceSeconds(double seconds) {
    millis.addAndGet(Math.round(seconds * 1000));
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }
}
