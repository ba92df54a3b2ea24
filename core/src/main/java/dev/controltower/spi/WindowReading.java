package dev.controltower.spi;

/**
 * How full each window of a pair is at one instant, read without changing or creating state: per plan
 * window, its count and the ms until that count next falls (0 when it counts nothing).
 *
 * @param counts per plan window
 * @param resetMillis per plan window
 */
public record WindowReading(long[] counts, long[] resetMillis) {
  /** Validates the lengths. */
  public WindowReading {
    if (counts.length != resetMillis.length) {
      throw new IllegalArgumentException("counts and resetMillis must have one entry per window but had "
          + counts.length + " and " + resetMillis.length);
    }
  }

  /** A pair that holds no state: every window counts nothing. */
  public static WindowReading empty(WindowPlan plan) {
    return new WindowReading(new long[plan.size()], new long[plan.size()]);
  }
}
