package dev.controltower.spi;

/**
 * What one atomic step of a {@link WindowStore} decided for one (user, endpoint) pair, with everything
 * that an answer to the client needs, so that nobody has to read the store a second time.
 *
 * <p>An <b>admitted</b> outcome describes the tightest window of the plan: the one with the least room
 * after this request (the first in plan order on a tie), because that is the only window the
 * {@code RateLimit} field and the result name: its count (this request included), the room every window
 * still has ({@code remaining}), and the ms until that window's count next falls.
 *
 * <p>A <b>refused</b> outcome describes every window of the plan: its count (before this request) and,
 * for each window that refuses, the ms until enough of its count has left it for the cost to fit
 * ({@link #NEVER} when the cost exceeds the window's limit); {@link #ROOM} for a window that has room.
 * Choosing which refusing window names the answer is the limiter's job, not the store's.
 *
 * <p>Immutable. Indexes are those of the {@link WindowPlan} the step was given.
 */
public final class Outcome {
  /** The wait of a window that has room for the cost. */
  public static final long ROOM = -1;
  /** The wait of a window whose limit is below the cost: it can never admit it. */
  public static final long NEVER = Long.MAX_VALUE;

  private final boolean admitted;
  private final int tightest;
  private final long tightestCount;
  private final long remaining;
  private final long resetMillis;
  private final long[] counts;
  private final long[] waits;

  private Outcome(boolean admitted, int tightest, long tightestCount, long remaining, long resetMillis,
      long[] counts, long[] waits) {
    this.admitted = admitted;
    this.tightest = tightest;
    this.tightestCount = tightestCount;
    this.remaining = remaining;
    this.resetMillis = resetMillis;
    this.counts = counts;
    this.waits = waits;
  }

  /**
   * An admission.
   *
   * @param tightest the plan index of the window with the least room after it; -1 for an empty plan
   * @param count that window's count, this request included
   * @param remaining the least room of any window after it; {@link Long#MAX_VALUE} for an empty plan
   * @param resetMillis ms until that window's count next falls
   */
  public static Outcome admitted(int tightest, long count, long remaining, long resetMillis) {
    return new Outcome(true, tightest, count, remaining, resetMillis, null, null);
  }

  /**
   * A refusal. The arrays are kept, not copied: the caller hands them over.
   *
   * @param counts per window, its count before the request
   * @param waits per window, {@link #ROOM}, {@link #NEVER} or the ms until the cost fits
   */
  public static Outcome refused(long[] counts, long[] waits) {
    if (counts.length != waits.length) {
      throw new IllegalArgumentException("counts and waits must have one entry per window but had "
          + counts.length + " and " + waits.length);
    }
    return new Outcome(false, -1, 0, 0, 0, counts, waits);
  }

  /** Whether the request was admitted (and, if the step recorded, counted in every window). */
  public boolean admitted() {
    return admitted;
  }

  /** Admitted: the plan index of the tightest window, -1 for an empty plan. */
  public int tightest() {
    return tightest;
  }

  /** Admitted: the tightest window's count, this request included. */
  public long tightestCount() {
    return tightestCount;
  }

  /** Admitted: the least room any window has left after this request. */
  public long remaining() {
    return remaining;
  }

  /** Admitted: ms until the tightest window's count next falls (0 when it counts nothing). */
  public long resetMillis() {
    return resetMillis;
  }

  /** Refused: window {@code i}'s count before the request. */
  public long count(int i) {
    return refusedOnly(counts)[i];
  }

  /** Refused: window {@code i}'s wait: {@link #ROOM}, {@link #NEVER} or ms until the cost fits. */
  public long waitMillis(int i) {
    return refusedOnly(waits)[i];
  }

  /** Refused: how many windows the plan had. */
  public int windows() {
    return refusedOnly(counts).length;
  }

  private long[] refusedOnly(long[] values) {
    if (admitted) {
      throw new IllegalStateException("an admitted outcome describes its tightest window only");
    }
    return values;
  }

  @Override
  public String toString() {
    if (admitted) {
      return "Outcome[admitted, tightest=" + tightest + ", count=" + tightestCount + ", remaining=" + remaining
          + ", resetMillis=" + resetMillis + "]";
    }
    return "Outcome[refused, counts=" + java.util.Arrays.toString(counts) + ", waits="
        + java.util.Arrays.toString(waits) + "]";
  }
}
