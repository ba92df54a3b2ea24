package dev.controltower.resources.internal;

/**
 * The one place where argument errors are phrased, so that every message names the parameter, the
 * value and the rule in the same words: {@code requestsPerMinute must be >= 0 but was -1}.
 */
public final class Checks {
  private Checks() {}

  /** The message: {@code name must be rule but was value}. */
  public static String mustBe(String name, String rule, Object value) {
    return name + " must be " + rule + " but was " + value;
  }

  public static int nonNegative(String name, int value) {
    if (value < 0) {
      throw new IllegalArgumentException(mustBe(name, ">= 0", value));
    }
    return value;
  }

  public static long nonNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(mustBe(name, ">= 0", value));
    }
    return value;
  }

  public static double nonNegative(String name, double value) {
    if (!(value >= 0)) {
      throw new IllegalArgumentException(mustBe(name, ">= 0", value));
    }
    return value;
  }

  /** For counts and costs that start at one. */
  public static long positive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(mustBe(name, ">= 1", value));
    }
    return value;
  }

  /** For builders whose settings may be given once: names the earlier value when one is repeated. */
  public static void notYetSet(String name, Object current, boolean isSet) {
    if (isSet) {
      throw new IllegalStateException(name + " was already set to " + current);
    }
  }

  public static <T> T notNull(String name, T value) {
    if (value == null) {
      throw new NullPointerException(name + " must not be null");
    }
    return value;
  }
}
