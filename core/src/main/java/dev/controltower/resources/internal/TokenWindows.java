package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import java.util.Arrays;

/**
 * The token windows of one pair in the in-memory store (WindowMath's rule, its "Token windows"
 * paragraph): per window a ring of B + 1 buckets, each with its index, its count (a long: token
 * limits are longs, and a debit may overshoot) and its latest admission. Created only for pairs whose
 * plan has token windows, so the request windows' compact layout ({@link WindowState}) pays one null
 * reference for them. Plain arrays and O(B) loops: token calls come once per LLM call, not per request.
 *
 * <p>Not thread-safe: used under the monitor of the {@link WindowState} that holds it. Times are the
 * pair's time {@code at} (never earlier than a time it was given before) and the caller's {@code now}.
 */
final class TokenWindows {
  private static final int FIRST = LimitType.TOKENS_MINUTE.ordinal();

  private final int stride;
  private final int buckets;
  /** Per token window (tokens-minute, -hour, -day), null until it counts. */
  private final Ring[] rings = new Ring[3];

  private static final class Ring {
    final long[] index;
    final long[] count;
    final long[] last;

    Ring(int stride) {
      index = new long[stride];
      count = new long[stride];
      last = new long[stride];
      Arrays.fill(index, Long.MIN_VALUE);
    }
  }

  TokenWindows(int buckets) {
    this.buckets = buckets;
    this.stride = buckets + 1;
  }

  private Ring ring(LimitType type) {
    return rings[type.ordinal() - FIRST];
  }

  private long bucketMillis(LimitType type) {
    return type.windowMillis() / buckets;
  }

  /** The window's count at {@code at}. */
  long count(LimitType type, long at) {
    Ring r = ring(type);
    return r == null ? 0 : WindowMath.count(r.count, r.last, stride, type.windowMillis(), at);
  }

  /** The ring's {counts, lasts}, oldest bucket first (the order of WindowMath's walk). */
  private long[][] ordered(LimitType type, long at) {
    Ring r = ring(type);
    long[] counts = new long[stride];
    long[] lasts = new long[stride];
    if (r != null) {
      long cur = WindowMath.bucketIndex(at, bucketMillis(type));
      int slot = (int) Math.floorMod(cur + 1, (long) stride);
      for (int i = 0; i < stride; i++) {
        // A slot holding an index other than its place in [cur - B, cur] is dead: leave it out.
        if (r.index[slot] == cur - buckets + i) {
          counts[i] = r.count[slot];
          lasts[i] = r.last[slot];
        }
        slot = slot + 1 == stride ? 0 : slot + 1;
      }
    }
    return new long[][] {counts, lasts};
  }

  /** The wait of a reservation of {@code cost} (ROOM, NEVER or ms). */
  long waitMillis(LimitType type, long limit, long cost, long at, long now) {
    long[][] b = ordered(type, at);
    return WindowMath.waitMillis(b[0], b[1], stride, type.windowMillis(), limit, cost, at, now);
  }

  /** The wait of a request's admission: ROOM while the window is below its limit. */
  long fullWaitMillis(LimitType type, long limit, long at, long now) {
    long[][] b = ordered(type, at);
    return WindowMath.fullWaitMillis(b[0], b[1], stride, type.windowMillis(), limit, at, now);
  }

  /** Ms from {@code now} until the window's count next falls; 0 when it counts nothing. */
  long resetMillis(LimitType type, long at, long now) {
    long[][] b = ordered(type, at);
    return WindowMath.resetMillis(b[0], b[1], stride, type.windowMillis(), at, now);
  }

  /** Adds {@code n} to the window's bucket of {@code at}, which becomes its latest admission. */
  void add(LimitType type, long n, long at) {
    int t = type.ordinal() - FIRST;
    Ring r = rings[t];
    if (r == null) {
      r = rings[t] = new Ring(stride);
    }
    long cur = WindowMath.bucketIndex(at, bucketMillis(type));
    int slot = (int) Math.floorMod(cur, (long) stride);
    if (r.index[slot] != cur) {
      r.index[slot] = cur;
      r.count[slot] = 0;
      r.last[slot] = at;
    }
    r.count[slot] += n;
    r.last[slot] = Math.max(r.last[slot], at);
  }

  /** Subtracts up to {@code n} from the bucket of {@code countedAt}, if it is still live at {@code at}. */
  void refund(LimitType type, long n, long countedAt, long at) {
    Ring r = ring(type);
    if (r == null) {
      return;
    }
    long index = WindowMath.bucketIndex(countedAt, bucketMillis(type));
    int slot = (int) Math.floorMod(index, (long) stride);
    if (r.index[slot] == index && WindowMath.isLive(r.last[slot], type.windowMillis(), at)) {
      r.count[slot] -= Math.min(n, r.count[slot]);
    }
  }

  /** Whether some window of {@code plan} counts anything at {@code at}. */
  boolean counts(WindowPlan plan, long at) {
    for (int j = 0; j < plan.tokenSize(); j++) {
      if (count(plan.tokenType(j), at) > 0) {
        return true;
      }
    }
    return false;
  }

  /** Whether some window of {@code plan} is full ({@code count >= limit}) at {@code at}. */
  boolean isFull(WindowPlan plan, long at) {
    for (int j = 0; j < plan.tokenSize(); j++) {
      if (count(plan.tokenType(j), at) >= plan.tokenLimit(j)) {
        return true;
      }
    }
    return false;
  }
}
