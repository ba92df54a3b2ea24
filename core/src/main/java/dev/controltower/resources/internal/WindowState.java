package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;

/*
 * The sliding window, as counted here.
 *
 * Each window of length W is cut into B buckets of W/B milliseconds (B = bucketCount, 10 by default,
 * so 6 s for the minute, 360 s for the hour, 8,640 s for the day and 100 ms for the burst window). A
 * request at epoch millisecond t falls in bucket floor(t / (W/B)). The count at time `now`, whose
 * bucket is `cur`, is the sum of the buckets cur - B .. cur: the current, partly elapsed bucket plus B
 * whole ones. So a request is counted from its arrival until the end of bucket index(t) + B, that is
 * for between W and W + W/B. Never less than W: in any interval of length W, at most `limit` requests
 * are admitted, which is the property a client and a test can rely on.
 *
 * When the count has reached the limit, a slot frees when enough of the oldest buckets have left the
 * window: walking the live buckets oldest first and adding their counts, the first bucket b at which the
 * sum reaches count - limit + 1 is the one whose departure makes room, which happens at
 * (b + B + 1) * (W/B).
 *
 * Worked example, minute window, limit 5, B = 10: five requests at t = 100 s fall in bucket
 * floor(100,000 / 6,000) = 16. At t = 100 s the count is 5 >= 5, so a sixth is refused; bucket 16
 * reaches the one needed (5 - 5 + 1 = 1) at once, so the slot frees at (16 + 11) * 6 s = 162 s, and
 * the answer is 162 - 100 = 62.0 s. The same five requests against an hour limit give
 * (0 + 11) * 360 s - 100 s = 3,860 s; against a day limit (0 + 11) * 8,640 s - 100 s = 94,940 s.
 *
 * Storage: per window a ring of B + 1 int slots (bucket i lives in slot i mod (B + 1)) and a running
 * total, so a check costs O(1) and the ring is only swept when time crosses a bucket boundary. One
 * timestamp, the latest time the pair was touched, serves every window: a window's newest live bucket is
 * that time's bucket. If the clock moves back, the pair keeps counting at its latest time, so buckets
 * "from the future" stay counted and nothing is forgotten; waits are still measured from the real now.
 * Minute, hour and day are always counted (so enabling a window later sees the real history); the burst
 * ring exists only once a burst limit has applied to the pair.
 */

/**
 * The windows of one (user, endpoint) pair. Not thread-safe by itself: every method must be called
 * while holding this object's monitor.
 */
final class WindowState {
  /** Offsets of the three always-present windows in {@link #rings}. */
  private static final int MINUTE = 0;
  private static final int HOUR = 1;
  private static final int DAY = 2;

  private final Geometry geometry;
  /** Per window: [total, slot 0 .. slot B], for MINUTE, HOUR, DAY in that order. */
  private final int[] rings;
  /** [total, slot 0 .. slot B] of the burst window, or null until a burst limit applies. */
  private int[] burst;
  /** The latest time the pair was touched, epoch ms; Long.MIN_VALUE before the first touch. */
  private long latest = Long.MIN_VALUE;
  /** Set once the pair has been removed from the store; a holder must then look it up again. */
  boolean retired;
  /** How long the pair must outlive its last use, in ms (longest enabled window plus one bucket). */
  volatile long retainMillis;

  WindowState(Geometry geometry, long retainMillis) {
    this.geometry = geometry;
    this.rings = new int[3 * geometry.stride];
    this.retainMillis = retainMillis;
  }

  /** The shape shared by every pair of a limiter: bucket count and bucket sizes. */
  static final class Geometry {
    final int buckets;
    final int stride;
    private final long[] bucketMillis = new long[LimitType.values().length];

    Geometry(int buckets) {
      this.buckets = buckets;
      this.stride = buckets + 2;
      for (LimitType t : LimitType.values()) {
        bucketMillis[t.ordinal()] = t.windowMillis() / buckets;
      }
    }

    long bucketMillis(LimitType type) {
      return bucketMillis[type.ordinal()];
    }
  }

  /**
   * Moves the windows forward to {@code now}, dropping buckets that left them.
   *
   * @return the time the pair now stands at: {@code max(now, latest)}
   */
  long advance(long now) {
    long previous = latest;
    if (now <= previous) {
      return previous;
    }
    latest = now;
    if (previous != Long.MIN_VALUE) {
      sweep(rings, MINUTE * geometry.stride, LimitType.MINUTE, previous, now);
      sweep(rings, HOUR * geometry.stride, LimitType.HOUR, previous, now);
      sweep(rings, DAY * geometry.stride, LimitType.DAY, previous, now);
      if (burst != null) {
        sweep(burst, 0, LimitType.BURST, previous, now);
      }
    }
    return now;
  }

  private void sweep(int[] ring, int base, LimitType type, long from, long to) {
    long size = geometry.bucketMillis(type);
    long oldIndex = Math.floorDiv(from, size);
    long newIndex = Math.floorDiv(to, size);
    if (newIndex == oldIndex || ring[base] == 0) {
      return;
    }
    int slots = geometry.buckets + 1;
    if (newIndex - oldIndex >= slots) {
      java.util.Arrays.fill(ring, base, base + 1 + slots, 0);
      return;
    }
    int total = ring[base];
    for (long i = oldIndex + 1; i <= newIndex; i++) {
      int slot = base + 1 + (int) Math.floorMod(i, (long) slots);
      total -= ring[slot];
      ring[slot] = 0;
    }
    ring[base] = total;
  }

  /** Requests counted in the window now; {@link #advance} must have been called at this time. */
  int count(LimitType type) {
    int[] ring = ringOf(type);
    return ring == null ? 0 : ring[baseOf(type)];
  }

  /** Makes sure the burst window is counted from now on. */
  void enableBurst() {
    if (burst == null) {
      burst = new int[geometry.stride];
    }
  }

  boolean hasBurst() {
    return burst != null;
  }

  /** Counts one request at the pair's current time in every window it holds. */
  void record() {
    long at = latest;
    add(rings, MINUTE * geometry.stride, LimitType.MINUTE, at);
    add(rings, HOUR * geometry.stride, LimitType.HOUR, at);
    add(rings, DAY * geometry.stride, LimitType.DAY, at);
    if (burst != null) {
      add(burst, 0, LimitType.BURST, at);
    }
  }

  private void add(int[] ring, int base, LimitType type, long at) {
    long index = Math.floorDiv(at, geometry.bucketMillis(type));
    int slot = base + 1 + (int) Math.floorMod(index, (long) (geometry.buckets + 1));
    ring[slot]++;
    ring[base]++;
  }

  /**
   * Milliseconds from {@code now} until the window's count drops below {@code limit}, assuming it is
   * {@code >= limit} now; see the essay above.
   */
  long millisUntilSlot(LimitType type, long limit, long now) {
    return millisUntilDrop(type, count(type) - limit + 1, now);
  }

  /** Milliseconds from {@code now} until the window's count next falls; 0 when it counts nothing. */
  long millisUntilReset(LimitType type, long now) {
    return count(type) == 0 ? 0 : millisUntilDrop(type, 1, now);
  }

  private long millisUntilDrop(LimitType type, long needed, long now) {
    int[] ring = ringOf(type);
    int base = baseOf(type);
    long size = geometry.bucketMillis(type);
    int buckets = geometry.buckets;
    long newest = Math.floorDiv(latest, size);
    long sum = 0;
    for (long b = newest - buckets; b <= newest; b++) {
      sum += ring[base + 1 + (int) Math.floorMod(b, (long) (buckets + 1))];
      if (sum >= needed) {
        return Math.max(0, (b + buckets + 1) * size - now);
      }
    }
    // Unreachable while count >= needed; kept total for safety: the newest bucket's end.
    return Math.max(0, (newest + buckets + 1) * size - now);
  }

  /**
   * Whether every window that {@code config} enables counts nothing at {@code now} (after advancing
   * to it). Counts kept in disabled windows do not keep a pair alive, just as they do not extend its
   * expiry.
   */
  boolean isQuiet(long now, dev.controltower.resources.RateLimitConfig config) {
    advance(now);
    for (LimitType type : LimitType.values()) {
      if (config.limitFor(type) > 0 && count(type) > 0) {
        return false;
      }
    }
    return true;
  }

  /** How many windows this pair holds: three, or four with a burst window. */
  int windowCount() {
    return burst == null ? 3 : 4;
  }

  private int[] ringOf(LimitType type) {
    return type == LimitType.BURST ? burst : rings;
  }

  private int baseOf(LimitType type) {
    return switch (type) {
      case BURST -> 0;
      case MINUTE -> MINUTE * geometry.stride;
      case HOUR -> HOUR * geometry.stride;
      case DAY -> DAY * geometry.stride;
    };
  }
}
