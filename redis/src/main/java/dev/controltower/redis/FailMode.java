package dev.controltower.redis;

import java.util.Locale;

/** What a {@link RedisWindowStore} answers while Redis cannot (down, too slow, or its breaker open). */
public enum FailMode {
  /**
   * Count in an in-process store instead, so that every limit still holds per instance (a user may get
   * up to N times the limit across N instances meanwhile). The default.
   */
  LOCAL,
  /** Admit every request that could ever fit (a cost above a limit is still refused). */
  OPEN,
  /**
   * Refuse with {@link dev.controltower.spi.StoreUnavailableException}, which the HTTP adapters answer
   * with 503 and {@code Retry-After}.
   */
  CLOSED;

  /** The configuration name: {@code local}, {@code open} or {@code closed}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a configuration value, ignoring case.
   *
   * @throws IllegalArgumentException naming the value and the allowed ones
   */
  public static FailMode parse(String value) {
    if (value != null) {
      for (FailMode mode : values()) {
        if (mode.wireName().equalsIgnoreCase(value.trim())) {
          return mode;
        }
      }
    }
    throw new IllegalArgumentException("fail-mode must be one of local, open, closed but was " + value);
  }
}
