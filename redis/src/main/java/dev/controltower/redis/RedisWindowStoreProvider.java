package dev.controltower.redis;

import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.WindowStore;
import dev.controltower.spi.WindowStoreProvider;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code store=redis}: a {@link RedisWindowStore} from the settings {@code redis-uri} (required),
 * {@code store-timeout} (ms, or a number with {@code ms} or {@code s}; default 50 ms) and
 * {@code fail-mode} ({@code local}, {@code open} or {@code closed}; default local).
 */
public final class RedisWindowStoreProvider implements WindowStoreProvider {
  private static final Pattern DURATION = Pattern.compile("\\s*(\\d{1,9})\\s*(ms|s)?\\s*");

  /** For {@link java.util.ServiceLoader}. */
  public RedisWindowStoreProvider() {}

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public void check(Map<String, String> settings) {
    configure(settings, RedisWindowStore.builder());
  }

  @Override
  public WindowStore create(Map<String, String> settings, int bucketCount) {
    return create(settings, bucketCount, ControlTowerListener.NOOP);
  }

  /** {@inheritDoc} Here: every fallback, breaker change and script latency. */
  @Override
  public WindowStore create(Map<String, String> settings, int bucketCount, ControlTowerListener listener) {
    RedisWindowStore.Builder b = configure(settings, RedisWindowStore.builder().bucketCount(bucketCount));
    return (listener == ControlTowerListener.NOOP ? b : b.listener(listener)).build();
  }

  private static RedisWindowStore.Builder configure(Map<String, String> settings, RedisWindowStore.Builder b) {
    String uri = settings.get("redis-uri");
    if (uri == null || uri.isBlank()) {
      throw new IllegalArgumentException("redis-uri is required with store=redis, e.g. redis://127.0.0.1:6379");
    }
    b.uri(uri.trim());
    String timeout = settings.get("store-timeout");
    if (timeout != null) {
      b.timeout(parseTimeout(timeout));
    }
    String failMode = settings.get("fail-mode");
    if (failMode != null) {
      b.failMode(FailMode.parse(failMode));
    }
    return b;
  }

  /** {@code 50}, {@code 50ms} or {@code 2s}. */
  static Duration parseTimeout(String value) {
    Matcher m = DURATION.matcher(value);
    if (!m.matches() || Long.parseLong(m.group(1)) < 1) {
      throw new IllegalArgumentException("store-timeout must be a positive number of ms (50, 50ms or 2s) but was "
          + value);
    }
    long n = Long.parseLong(m.group(1));
    return "s".equals(m.group(2)) ? Duration.ofSeconds(n) : Duration.ofMillis(n);
  }
}
