package dev.controltower.spi;

/**
 * The sliding-window rule as pure functions: every store counts with these, and the tests use them as
 * the oracle that every store (and the Redis script) is checked against. No state, no clock.
 */
/*
 * The rule.
 *
 * A window of length W is cut into B buckets of S = W / B ms (B = bucketCount, 10 by default: S is
 * 100 ms for the burst window, 6 s for the minute, 360 s for the hour, 8,640 s for the day). A request
 * admitted at epoch ms t goes into bucket floor(t / S). Each bucket keeps two numbers: c_b, the summed
 * cost of what it admitted, and last_b, the time of its latest admission. A bucket is live at `now`
 * while now < last_b + W, and the window's count is the sum of c_b over its live buckets.
 *
 * Why it is safe: take any half-open span [t, t + W) and any request admitted in it, at time a, into
 * bucket b. Then last_b >= a, so b is live until at least a + W > every instant of the span after a:
 * when a later request of the span was admitted, this one was still counted. So the admissions of any
 * such span were admitted with all of them counted, and their total cost is at most the limit.
 *
 * Why it is exact for a paced client: a request stops counting W after the latest admission of its
 * bucket: exactly W when it is alone there, at most W + S otherwise. A client that spaces requests by
 * at least W / limit, with limit <= B, has at most one request per bucket (W / limit >= S), each gone
 * exactly W after it was made, so at most limit - 1 others are counted when it asks again.
 *
 * Only the oldest bucket can die between two bucket boundaries: a bucket of index b has
 * last_b >= b * S, so it lives at least until (b + B) * S; at a time in bucket cur, every bucket from
 * cur - B + 1 to cur is live, bucket cur - B is live until its last_b + W (which falls inside bucket
 * cur), and older ones are dead. A store therefore needs B + 1 buckets per window, and a count changes
 * only at a bucket boundary or at the oldest bucket's last_b + W.
 *
 * The wait. When count + cost > limit, the request fits once enough of the count has left: walk the
 * live buckets oldest first, adding their counts; at the first bucket b where the sum reaches
 * count + cost - limit, the answer is last_b + W - now. A cost above the limit never fits.
 *
 * Worked example, minute window, B = 10, S = 6 s. Requests at t = 100 s, 106.5 s and 113 s fall in
 * buckets 16, 17 and 18 (floor(100,000 / 6,000) = 16, ...), with last 100, 106.5 and 113. Queried at
 * 113 s, all three are live (113 < 160), count 3. With limit 3 the fourth needs 3 + 1 - 3 = 1: bucket
 * 16 reaches it, 100 + 60 - 113 = 47.0 s. With limit 2 it needs 2: bucket 17, 106.5 + 60 - 113 = 53.5 s.
 * With limit 1, 3: bucket 18, 60.0 s. Two requests at 96.0 s and 101.9 s share bucket 16 ([96, 102)),
 * so with limit 2 both count until 101.9 + 60 = 161.9 s: queried at 101.9 s the wait is 60.0 s.
 *
 * The clock moving back: a pair stands at T = max(now, the latest time it was touched), so buckets
 * "from the future" stay live and nothing is forgotten; liveness is judged at T, waits are measured
 * from the real now, and an admission is recorded at T (it only counts longer).
 *
 * Token windows. The same rule counts tokens: a reservation of n is a request of cost n. Two moves
 * are their own. A refund of k from a reservation counted at time r subtracts min(k, c_b) from the
 * bucket floor(r / S) if that bucket is still live, and leaves last_b alone: the tokens that stay
 * counted stay for as long as they would have, and safety holds (the bucket only holds less). A debit
 * adds to the current bucket without a check, like an admission that may overshoot the limit. An
 * admission of a request checks a token window with cost 0, refusing while it is full (count >=
 * limit, possible after a debit), and its wait is the time until count - limit + 1 has left.
 * Worked example, tokens-minute limit 1000, B = 10: reserve 800 at 100 s (bucket 16), settle for 300
 * at 130 s: the refund of 500 leaves bucket 16 holding 300, last 100 s, gone at 160 s. A debit of 900
 * at 131 s (bucket 21) overshoots to 1200: a request at 131 s is refused with the wait until 201 of it
 * has left, bucket 16's 300 at 160 s: 29.0 s.
 *
 * Numbers: counts and times are longs, and stay integers below 2^53 in every realistic use (a day of
 * ms is 8.64e7, epoch ms are 1.8e12), so a store keeping them as doubles (Lua) is exact too.
 */
public final class WindowMath {
  private WindowMath() {}

  /** The bucket of time {@code t}: {@code floor(t / bucketMillis)}. */
  public static long bucketIndex(long t, long bucketMillis) {
    return Math.floorDiv(t, bucketMillis);
  }

  /** Whether a bucket whose latest admission was at {@code last} still counts at {@code now}. */
  public static boolean isLive(long last, long windowMillis, long now) {
    return now - last < windowMillis;
  }

  /** Whether {@code cost} more fits under {@code limit} on top of {@code count}, without overflow. */
  public static boolean fits(long count, long cost, long limit) {
    return cost <= limit && count <= limit - cost;
  }

  /**
   * The window's count at {@code now}: the sum over the live buckets.
   *
   * @param counts the buckets' counts, any order
   * @param lasts the buckets' latest admission times, parallel to {@code counts}
   * @param n how many buckets the arrays hold
   */
  public static long count(long[] counts, long[] lasts, int n, long windowMillis, long now) {
    long sum = 0;
    for (int i = 0; i < n; i++) {
      if (counts[i] > 0 && isLive(lasts[i], windowMillis, now)) {
        sum += counts[i];
      }
    }
    return sum;
  }

  /**
   * The ms from {@code now} until {@code needed} of the count has left the window.
   *
   * @param counts the buckets' counts, oldest first
   * @param lasts their latest admission times, parallel to {@code counts}
   * @param needed how much must leave, {@code >= 1}
   * @return the wait, at least 0; {@link Outcome#NEVER} if the live buckets hold less than {@code needed}
   */
  public static long millisUntilFreed(long[] counts, long[] lasts, int n, long windowMillis, long needed,
      long now) {
    return millisUntilFreed(counts, lasts, n, windowMillis, needed, now, now);
  }

  /**
   * {@link #millisUntilFreed(long[], long[], int, long, long, long)} for a pair that stands at
   * {@code at}, later than {@code now} when the clock moved back: liveness is judged at {@code at}, the
   * wait is measured from {@code now}.
   */
  public static long millisUntilFreed(long[] counts, long[] lasts, int n, long windowMillis, long needed,
      long at, long now) {
    long sum = 0;
    for (int i = 0; i < n; i++) {
      if (counts[i] > 0 && isLive(lasts[i], windowMillis, at)) {
        sum += counts[i];
        if (sum >= needed) {
          return Math.max(0, lasts[i] + windowMillis - now);
        }
      }
    }
    return Outcome.NEVER;
  }

  /**
   * The wait of a window for a request of {@code cost}, for a pair standing at {@code at}:
   * {@link Outcome#ROOM} when it fits, {@link Outcome#NEVER} when the cost exceeds the limit, else the
   * ms from {@code now} until enough has left.
   */
  public static long waitMillis(long[] counts, long[] lasts, int n, long windowMillis, long limit, long cost,
      long at, long now) {
    if (cost > limit) {
      return Outcome.NEVER;
    }
    long count = count(counts, lasts, n, windowMillis, at);
    if (fits(count, cost, limit)) {
      return Outcome.ROOM;
    }
    return millisUntilFreed(counts, lasts, n, windowMillis, count + cost - limit, at, now);
  }

  /**
   * The wait of a token window for the admission of a request (cost 0 on tokens): {@link Outcome#ROOM}
   * while its count is below the limit, else the ms from {@code now} until {@code count - limit + 1} of
   * it has left.
   */
  public static long fullWaitMillis(long[] counts, long[] lasts, int n, long windowMillis, long limit, long at,
      long now) {
    long count = count(counts, lasts, n, windowMillis, at);
    if (count < limit) {
      return Outcome.ROOM;
    }
    return millisUntilFreed(counts, lasts, n, windowMillis, count - limit + 1, at, now);
  }

  /** The ms from {@code now} until the window's count next falls (pair at {@code at}); 0 when empty. */
  public static long resetMillis(long[] counts, long[] lasts, int n, long windowMillis, long at, long now) {
    long wait = millisUntilFreed(counts, lasts, n, windowMillis, 1, at, now);
    return wait == Outcome.NEVER ? 0 : wait;
  }

  /**
   * What a pair that holds nothing answers for {@code cost}: refused, {@link Outcome#NEVER} in each
   * window whose limit is below the cost; else admitted, the cost counted in every window when
   * {@code counted} (a recorded step) and not for a dry run.
   */
  public static Outcome emptyPair(WindowPlan plan, long cost, boolean counted) {
    int n = plan.size();
    boolean fits = true;
    for (int i = 0; i < n; i++) {
      fits &= cost <= plan.limit(i);
    }
    if (!fits) {
      // A plan's token windows, after its request windows: empty, so never full.
      long[] waits = new long[plan.checkedSize()];
      java.util.Arrays.fill(waits, Outcome.ROOM);
      for (int i = 0; i < n; i++) {
        waits[i] = cost <= plan.limit(i) ? Outcome.ROOM : Outcome.NEVER;
      }
      return Outcome.refused(new long[waits.length], waits);
    }
    long count = counted ? cost : 0;
    int tightest = -1;
    long remaining = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      long room = plan.limit(i) - count;
      if (room < remaining) {
        remaining = room;
        tightest = i;
      }
    }
    long reset = tightest >= 0 && counted ? plan.windowMillis(tightest) : 0;
    return Outcome.admitted(tightest, count, remaining, reset);
  }

  /** Whole seconds, rounded up, of a non-negative number of ms. */
  public static long ceilSeconds(long millis) {
    return millis / 1000 + (millis % 1000 == 0 ? 0 : 1);
  }
}
