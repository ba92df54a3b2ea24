package dev.controltower.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * Makes {@link WindowStore}s of one kind from configuration, found through {@link ServiceLoader}, so
 * that configuration ({@code store=redis}) selects a store whose module {@code core} does not know. A
 * store module registers its provider in {@code META-INF/services/dev.controltower.spi.WindowStoreProvider}.
 */
public interface WindowStoreProvider {
  /** The value of the {@code store} setting that selects this provider, such as {@code "redis"}. */
  String name();

  /**
   * A new store.
   *
   * @param settings the configuration (init-parameters, properties); a provider reads its own names
   *     and ignores the others
   * @param bucketCount the limiter's bucket count
   * @throws IllegalArgumentException naming the setting and its value when one is invalid or missing
   */
  WindowStore create(Map<String, String> settings, int bucketCount);

  /**
   * A new store that reports its own events (fail-mode decisions, breaker changes, backend latency) to
   * {@code listener}: the limiter's listener, when configuration built both. The default ignores the
   * listener, for a store that has no events of its own.
   *
   * @param listener the listener; {@link ControlTowerListener#NOOP} for none
   * @throws IllegalArgumentException as {@link #create(Map, int)} does
   * @throws NullPointerException if {@code listener} is null
   */
  default WindowStore create(Map<String, String> settings, int bucketCount, ControlTowerListener listener) {
    Objects.requireNonNull(listener, "listener must not be null");
    return create(settings, bucketCount);
  }

  /**
   * Checks the settings as {@link #create} would, without connecting to anything, so that a deployment
   * can fail on a bad value before the first request. The default checks nothing.
   *
   * @throws IllegalArgumentException naming the setting and its value when one is invalid or missing
   */
  default void check(Map<String, String> settings) {}

  /**
   * The provider named {@code name} on the class path of {@code loader}.
   *
   * @throws IllegalArgumentException naming the value and the stores found when there is none
   */
  static WindowStoreProvider find(String name, ClassLoader loader) {
    Objects.requireNonNull(name, "store must not be null");
    List<String> found = new ArrayList<>(List.of("memory"));
    for (WindowStoreProvider provider : ServiceLoader.load(WindowStoreProvider.class, loader)) {
      if (provider.name().equals(name)) {
        return provider;
      }
      found.add(provider.name());
    }
    throw new IllegalArgumentException("store must be one of " + found + " but was " + name
        + (name.equals("memory") ? " (the in-memory store needs no provider)" : " (is its module on the class path?)"));
  }
}
