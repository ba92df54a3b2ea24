package dev.controltower.resources;

/**
 * The one place where argument errors are phrased, so that every message names the parameter, the
 * value and the rule in the same words: {@code requestsPerMinute must be >= 0 but was -1}.
 */
final class Checks {
  private Checks() {}

  static int nonNegative(String name, int value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0 but was " + value);
    }
    return value;
  }

  static long nonNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0 but was " + value);
    }
    return value;
  }

  static double nonNegative(String name, double value) {
    if (!(value >= 0)) {
      throw new IllegalArgumentException(name + " must be >= 0 but was " + value);
    }
    return value;
  }

  /** For builders whose settings may be given once: names the earlier value when one is repeated. */
  static void notYetSet(String name, Object current, boolean isSet) {
    if (isSet) {
      throw new IllegalStateException(name + " was already set to " + current);
    }
  }

  static <T> T notNull(String name, T value) {
    if (value == null) {
      throw new NullPointerException(name + " must not be null");
    }
    return value;
  }
}
