package dev.controltower.http;

import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.WindowStore;
import dev.controltower.spi.WindowStoreProvider;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Where an adapter's limiter counts: the settings {@code store}, {@code redis-uri},
 * {@code store-timeout} and {@code fail-mode} of {@link HttpSettings}. {@code store=memory} (the
 * default) counts in this process; any other value names a {@link WindowStoreProvider} found through
 * {@link java.util.ServiceLoader}, which reads the other three settings and checks their values
 * ({@code store=redis}: the artifact {@code dev.controltower:controltower-redis}). Core names no store
 * module and no client library.
 *
 * <p>The shared-store settings without a shared store ({@code redis-uri=...} with {@code store} unset)
 * are refused: an operator who sets them means the limits to be shared, and counting alone in each
 * instance instead would give every user N times the limit.
 *
 * @param name the {@code store} value: {@code memory} or a provider's {@link WindowStoreProvider#name()}
 * @param options the store's own settings that were given ({@code redis-uri}, {@code store-timeout},
 *     {@code fail-mode}), by name
 */
public record StoreSettings(String name, Map<String, String> options) {
  /** The {@code store} value of the in-process store. */
  public static final String MEMORY = "memory";
  /** The setting names, in the order of {@link HttpSettings}'s table. */
  public static final List<String> PARAMETERS = List.of("store", "redis-uri", "store-timeout", "fail-mode");
  /** The settings passed to a store's provider. */
  static final List<String> STORE_OPTIONS = PARAMETERS.subList(1, PARAMETERS.size());

  private static final StoreSettings IN_MEMORY = new StoreSettings(MEMORY, Map.of());

  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException if {@code name} is not a lower-case word, or options are given
   *     with {@code memory}
   */
  public StoreSettings {
    Objects.requireNonNull(name, "name must not be null");
    options = Map.copyOf(new LinkedHashMap<>(Objects.requireNonNull(options, "options must not be null")));
    if (!name.matches("[a-z][a-z0-9-]{0,39}")) {
      throw new IllegalArgumentException("store must be memory or a store's name such as redis but was '"
          + LogText.text(name) + "'");
    }
    if (name.equals(MEMORY) && !options.isEmpty()) {
      throw new IllegalArgumentException(String.join(", ", new java.util.TreeSet<>(options.keySet()))
          + " set, but store is memory (the default), which counts in this process and reads none of them;"
          + " set store=redis to share the limits, or remove them");
    }
  }

  /** The in-process store, with no options. */
  public static StoreSettings memory() {
    return IN_MEMORY;
  }

  /**
   * The store settings among {@code parameters} (a {@code null} answer is an absent setting).
   *
   * @throws IllegalArgumentException naming the setting and the value when one is wrong
   */
  public static StoreSettings from(Function<String, String> parameters) {
    String store = parameters.apply("store");
    Map<String, String> options = new LinkedHashMap<>();
    for (String option : STORE_OPTIONS) {
      String value = parameters.apply(option);
      if (value != null) {
        options.put(option, value.strip());
      }
    }
    String name = store == null ? MEMORY : store.strip();
    if (name.isEmpty()) {
      throw new IllegalArgumentException("store must be memory or a store's name such as redis but was '"
          + LogText.text(store) + "'");
    }
    return new StoreSettings(name, options);
  }

  /** Whether windows are counted in this process. */
  public boolean isMemory() {
    return name.equals(MEMORY);
  }

  /**
   * A new store from its provider, or {@code null} for {@code memory}. The caller closes it.
   *
   * @param loader where the provider is looked for (a webapp's loader); {@code null} for this class's
   * @param bucketCount the limiter's bucket count
   * @throws IllegalArgumentException naming the setting and the value when the provider refuses one,
   *     or naming the artifact to add when no provider of that name is on the class path
   */
  public WindowStore newStore(ClassLoader loader, int bucketCount) {
    return newStore(loader, bucketCount, ControlTowerListener.NOOP);
  }

  /**
   * Like {@link #newStore(ClassLoader, int)}, with a store that reports its own events (fail-mode
   * decisions, breaker changes, latency) to {@code listener}; give it the limiter's listener.
   *
   * @param listener the listener; {@link ControlTowerListener#NOOP} for none
   * @throws NullPointerException if {@code listener} is null
   */
  public WindowStore newStore(ClassLoader loader, int bucketCount, ControlTowerListener listener) {
    Objects.requireNonNull(listener, "listener must not be null");
    return isMemory() ? null : provider(loader).create(options, bucketCount, listener);
  }

  /**
   * Checks, without connecting, that the store's provider is on the class path and accepts the
   * options, so that a deployment fails on a bad value before its first request.
   *
   * @param loader where the provider is looked for; {@code null} for this class's
   * @throws IllegalArgumentException as {@link #newStore} does
   */
  public void check(ClassLoader loader) {
    if (!isMemory()) {
      provider(loader).check(options);
    }
  }

  private WindowStoreProvider provider(ClassLoader loader) {
    try {
      return WindowStoreProvider.find(name, loader != null ? loader : StoreSettings.class.getClassLoader());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + ": store=" + name + " needs "
          + (name.equals("redis") ? "the artifact dev.controltower:controltower-redis"
              : "the artifact of a store module that provides it") + " on the class path", e);
    }
  }

  /** {@code memory}, or {@code redis (redis-uri=..., fail-mode=...)} without the URI's password. */
  @Override
  public String toString() {
    if (isMemory()) {
      return MEMORY;
    }
    StringBuilder b = new StringBuilder(name);
    if (!options.isEmpty()) {
      b.append(" (");
      String sep = "";
      for (String option : STORE_OPTIONS) {
        String value = options.get(option);
        if (value != null) {
          b.append(sep).append(option).append('=')
              .append(option.equals("redis-uri") ? withoutPassword(value) : LogText.text(value));
          sep = ", ";
        }
      }
      b.append(')');
    }
    return b.toString();
  }

  /** {@code redis://user:secret@host} as {@code redis://user:***@host}, for logs. */
  public static String withoutPassword(String uri) {
    int scheme = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    if (scheme < 0 || at < scheme) {
      return LogText.text(uri);
    }
    String userInfo = uri.substring(scheme + 3, at);
    int colon = userInfo.indexOf(':');
    String masked = colon < 0 ? "***" : userInfo.substring(0, colon) + ":***";
    return LogText.text(uri.substring(0, scheme + 3) + masked + uri.substring(at));
  }
}
