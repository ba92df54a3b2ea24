package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/*
 * How the in-memory store keeps the sliding windows of WindowMath (which explains the rule: per bucket
 * a count and the time of its latest admission, live while now < last + W).
 *
 * Time. One timestamp, `latest`, the latest time the pair was touched, places every window: a window's
 * current bucket is latest's bucket, and its B + 1 slots form a ring ending there (WindowMath: only
 * buckets cur - B .. cur can be live). If the clock moves back, the pair keeps counting at its latest
 * time, so buckets "from the future" stay counted and nothing is forgotten; waits are still measured
 * from the real now. Admissions at such a time are recorded at `latest`, which only makes them count
 * longer. The store keeps an idle pair until max(now, latest) plus its plan's retention
 * ({@link #retainFrom}).
 *
 * Cost. A check is O(1) and divides nothing while no count can change: a count changes only when time
 * crosses a bucket boundary or when the oldest bucket of a window dies (its last + W). The bucket
 * lengths nest (burst 1/60 of minute, minute 1/60 of hour, hour 1/24 of day, for every allowed B), so
 * every boundary of every window is a boundary of the finest counted window, and one comparison with
 * `nextChange` (the earlier of the end of latest's finest bucket and the oldest buckets' deaths) tells
 * whether anything has to move. Only then are bucket indexes computed and slots swept.
 *
 * Admission without the lock. Until `nextChange` every admission adds its cost to every enabled window
 * and nothing leaves, so how much more the pair admits before some window is full is known in advance:
 * room = min over enabled windows of (limit - count). After each locked check that admits, the pair
 * opens an "epoch" holding that room and the tightest window (the argmin, first in plan order on a tie),
 * for the plan it was computed with. Until `nextChange`, a check with the same plan claims its cost of
 * the epoch with a single compare-and-set on `fast` (open flag, tightest window, a sequence number, and
 * k, the cost claimed so far); the tightest window then counts base + k, and `remaining` is room - k.
 * Claims are exactly the admissions the locked path would have made. Any locked operation first closes
 * the epoch (a compare-and-set that clears the open flag, so that no claim lands after it) and folds k
 * into the current buckets. The sequence number changes with every epoch, so a claim computed from an
 * older epoch's fields cannot succeed.
 *
 * A claim must also move its bucket's `last`. It raises `lastAdmit` (a compare-and-set maximum) BEFORE
 * its claim on `fast`, and the fold writes lastAdmit into the current buckets; so no admitted claim's
 * time can be missed by the fold. A claim that then loses its race leaves lastAdmit a little later than
 * the real latest admission: its bucket counts a few ms longer, which is safe (never more admitted),
 * and happens only under contention, within one finest bucket. Claims do not move `latest`; the fold
 * raises it to lastAdmit (both lie in latest's finest bucket).
 *
 * Memory, per pair (this object is both the cache key and its value):
 *   - the pair's name, user and endpoint packed in one byte[] (one byte per char when every char is
 *     Latin-1, else two), instead of two String objects;
 *   - one running total per window, in fields, and lastAdmit;
 *   - the per-bucket counts of minute, hour and day in one array of 3 * (B + 1) slots, and their lasts
 *     (ms from the bucket's start) in another, and only once they are needed: while every admission of
 *     the pair sits in the current bucket of each window (a pair seen in one bucket only, the common
 *     case for most of a large key population), the totals and lastAdmit say everything and no array
 *     exists. They are created at the first bucket boundary crossed with something counted, the counts
 *     as a char[] (16-bit), widened to an int[] if a bucket ever holds 65,535, and dropped again when
 *     every window has emptied.
 *   Counts are ints: a request window's limit is an int, and nothing is admitted beyond it.
 */

/**
 * The windows of one (user, endpoint) pair, and the pair's identity in the store: an instance is its
 * own cache key (see {@link WindowKey} for the transient lookup form). Not thread-safe by itself: every
 * method that reads or writes counts must be called while holding this object's monitor, except
 * {@link #tryClaim}.
 */
final class WindowState {
  private static final int MINUTE = 0;
  private static final int HOUR = 1;
  private static final int DAY = 2;
  private static final int SLOT_BITS = 10;
  private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;
  private static final char NARROW_MAX = Character.MAX_VALUE;
  /** {@link #epochResetOffset} when the tightest window counts only in its current bucket. */
  private static final int RESET_MOVES = Integer.MIN_VALUE;

  // The bits of `fast`: retired, open, tightest window's plan index (2 bits), sequence (28), k (32).
  private static final long RETIRED = 1L << 63;
  private static final long OPEN = 1L << 62;
  private static final int WINDOW_SHIFT = 60;
  private static final int SEQUENCE_SHIFT = 32;
  private static final long SEQUENCE_MASK = ((1L << 28) - 1) << SEQUENCE_SHIFT;
  private static final long CLAIMED_MASK = 0xFFFF_FFFFL;
  private static final LimitType[] TYPES = {LimitType.BURST, LimitType.MINUTE, LimitType.HOUR, LimitType.DAY};
  private static final VarHandle FAST;
  private static final VarHandle LATEST;
  private static final VarHandle LAST_ADMIT;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      FAST = lookup.findVarHandle(WindowState.class, "fast", long.class);
      LATEST = lookup.findVarHandle(WindowState.class, "latest", long.class);
      LAST_ADMIT = lookup.findVarHandle(WindowState.class, "lastAdmit", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** User then endpoint: Latin-1 when {@code userChars >= 0}, else UTF-16BE with {@code ~userChars}. */
  private final byte[] name;
  private final int userChars;
  private final int hash;

  /**
   * The latest time the pair was touched, epoch ms; Long.MIN_VALUE before the first touch. Written
   * under the monitor (opaque, so that {@link #latestTime()} never sees half of it); read by the
   * store's expiry without the monitor.
   */
  private long latest = Long.MIN_VALUE;
  /** The latest admission, epoch ms; raised by claims without the monitor (see the essay). */
  private long lastAdmit = Long.MIN_VALUE;
  /** Before it, no count changes: see the essay. */
  private long nextChange = Long.MIN_VALUE;
  private int minuteTotal;
  private int hourTotal;
  private int dayTotal;
  /** The slot of the current bucket of minute, hour and day, 10 bits each. */
  private int currentSlots;
  /** null (all counts in the current buckets), char[] or int[]; window w's slots at w * (B + 1). */
  private Object counts;
  /** null with {@code counts}, else each slot's latest admission, in ms from the start of its bucket. */
  private int[] lasts;
  /**
   * [total, current slot, counts of slots 0 .. B, lasts of slots 0 .. B] of the burst window, or null
   * until a burst limit applies.
   */
  private int[] burst;
  /** The lock-free admission word; see the essay. Written under the monitor, except by claims. */
  private volatile long fast;
  /** The plan of the latest locked admission: the open epoch's, and the one eviction judges by. */
  private WindowPlan plan;
  /** The cost the open epoch admits in all. */
  private int epochRoom;
  /**
   * When the tightest window's count next falls, as an offset from {@code nextChange} (fixed for the
   * epoch: its oldest bucket cannot change before then), or {@link #RESET_MOVES} when it counts only in
   * its current bucket, whose last moves with every claim.
   */
  private int epochResetOffset;
  /** How long the pair must outlive its last use, in ms (its plan's retention). */
  volatile int retainMillis;
  /** The token windows, or null while no plan with token windows has counted on the pair. */
  private TokenWindows tokens;

  WindowState(String user, String endpoint, int hash, int retainMillis) {
    this.hash = hash;
    this.retainMillis = retainMillis;
    int ul = user.length();
    int el = endpoint.length();
    if (isLatin1(user) && isLatin1(endpoint)) {
      byte[] n = new byte[ul + el];
      for (int i = 0; i < ul; i++) {
        n[i] = (byte) user.charAt(i);
      }
      for (int i = 0; i < el; i++) {
        n[ul + i] = (byte) endpoint.charAt(i);
      }
      this.name = n;
      this.userChars = ul;
    } else {
      this.name = (user + endpoint).getBytes(StandardCharsets.UTF_16BE);
      this.userChars = ~ul;
    }
  }

  /** A copy of {@code from}'s counts and time, for a read that must not move the pair; see {@link #readingAt}. */
  private WindowState(WindowState from) {
    this.name = from.name;
    this.userChars = from.userChars;
    this.hash = from.hash;
    this.retainMillis = from.retainMillis;
    this.latest = from.latest;
    this.lastAdmit = from.lastAdmit;
    this.nextChange = from.nextChange;
    this.minuteTotal = from.minuteTotal;
    this.hourTotal = from.hourTotal;
    this.dayTotal = from.dayTotal;
    this.currentSlots = from.currentSlots;
    Object c = from.counts;
    this.counts = c instanceof char[] narrow ? narrow.clone() : c instanceof int[] wide ? wide.clone() : null;
    this.lasts = from.lasts == null ? null : from.lasts.clone();
    this.burst = from.burst == null ? null : from.burst.clone();
    this.plan = from.plan;
    this.tokens = from.tokens; // read only: token windows need no advance
    this.fast = RETIRED; // a copy admits no claim
  }

  /**
   * The state to read at {@code now} without moving the pair's time (a dry run, a read, a quiet test):
   * this one when {@code now} is not after the pair's time (advancing changes nothing then), else a
   * settled copy, so that a later step on a clock that stepped back still stands at the pair's own
   * latest time, as the oracle and the Redis script do. Must hold the monitor.
   */
  WindowState readingAt(long now, Geometry g) {
    settle(g);
    return now <= latest ? this : new WindowState(this);
  }

  private static boolean isLatin1(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0xFF) {
        return false;
      }
    }
    return true;
  }

  /** The shape shared by every pair of a store: bucket count and bucket sizes. */
  static final class Geometry {
    final int buckets;
    final int stride;
    final long burstMillis;
    final long minuteMillis;
    final long hourMillis;
    final long dayMillis;

    Geometry(int buckets) {
      if (buckets < 1 || buckets > SLOT_MASK) {
        throw new IllegalArgumentException("buckets must be in [1, " + SLOT_MASK + "] but was " + buckets);
      }
      this.buckets = buckets;
      this.stride = buckets + 1;
      this.burstMillis = LimitType.BURST.windowMillis() / buckets;
      this.minuteMillis = LimitType.MINUTE.windowMillis() / buckets;
      this.hourMillis = LimitType.HOUR.windowMillis() / buckets;
      this.dayMillis = LimitType.DAY.windowMillis() / buckets;
    }

    long bucketMillis(LimitType type) {
      return switch (type) {
        case BURST -> burstMillis;
        case MINUTE -> minuteMillis;
        case HOUR -> hourMillis;
        case DAY -> dayMillis;
        default -> throw new IllegalArgumentException("the in-memory request store has no " + type + " window");
      };
    }
  }

  // ---- identity ----

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (o instanceof WindowKey k) {
      return hash == k.hashCode() && matches(k.user, k.endpoint);
    }
    return o instanceof WindowState s && hash == s.hash && userChars == s.userChars && Arrays.equals(name, s.name);
  }

  /** Whether this is the pair (user, endpoint), without building any string. */
  boolean matches(String user, String endpoint) {
    int ul = user.length();
    int el = endpoint.length();
    byte[] n = name;
    if (userChars >= 0) {
      if (ul != userChars || ul + el != n.length) {
        return false;
      }
      for (int i = 0; i < ul; i++) {
        if (user.charAt(i) != (n[i] & 0xFF)) {
          return false;
        }
      }
      for (int i = 0; i < el; i++) {
        if (endpoint.charAt(i) != (n[ul + i] & 0xFF)) {
          return false;
        }
      }
      return true;
    }
    if (ul != ~userChars || 2 * (ul + el) != n.length) {
      return false;
    }
    for (int i = 0; i < ul; i++) {
      if (user.charAt(i) != wideChar(n, i)) {
        return false;
      }
    }
    for (int i = 0; i < el; i++) {
      if (endpoint.charAt(i) != wideChar(n, ul + i)) {
        return false;
      }
    }
    return true;
  }

  /** Whether the pair belongs to {@code user}. */
  boolean isUser(String user) {
    int ul = user.length();
    if (ul != (userChars >= 0 ? userChars : ~userChars)) {
      return false;
    }
    for (int i = 0; i < ul; i++) {
      int c = userChars >= 0 ? name[i] & 0xFF : wideChar(name, i);
      if (user.charAt(i) != c) {
        return false;
      }
    }
    return true;
  }

  private static char wideChar(byte[] n, int i) {
    return (char) (((n[2 * i] & 0xFF) << 8) | (n[2 * i + 1] & 0xFF));
  }

  String user() {
    return userChars >= 0
        ? new String(name, 0, userChars, StandardCharsets.ISO_8859_1)
        : new String(name, 0, 2 * ~userChars, StandardCharsets.UTF_16BE);
  }

  String endpoint() {
    return userChars >= 0
        ? new String(name, userChars, name.length - userChars, StandardCharsets.ISO_8859_1)
        : new String(name, 2 * ~userChars, name.length - 2 * ~userChars, StandardCharsets.UTF_16BE);
  }

  @Override
  public String toString() {
    return user() + " @ " + endpoint();
  }

  // ---- lock-free admission ----

  /**
   * Admits {@code cost} without the lock if an epoch for {@code plan} is open at {@code now} and has
   * room for it. May be called without holding the monitor.
   *
   * @return the outcome, exactly as the locked path would give it, or null to take the locked path
   */
  Outcome tryClaim(WindowPlan plan, long cost, long now) {
    while (true) {
      long f = fast;
      long end = nextChange;
      if ((f & (RETIRED | OPEN)) != OPEN || this.plan != plan || now >= end) {
        return null;
      }
      int room = epochRoom;
      int resetOffset = epochResetOffset;
      long claimed = f & CLAIMED_MASK;
      if (cost > room - claimed) {
        return null;
      }
      raiseLastAdmit(now);
      if (FAST.compareAndSet(this, f, f + cost)) {
        int tightest = (int) (f >>> WINDOW_SHIFT) & 3;
        long limit = plan.limit(tightest);
        long remaining = room - claimed - cost;
        long resetAt = resetOffset == RESET_MOVES
            ? Math.max(now, (long) LAST_ADMIT.getOpaque(this)) + plan.windowMillis(tightest)
            : end + resetOffset;
        // The tightest window held limit - room when the epoch opened: now limit - remaining.
        return Outcome.admitted(tightest, limit - remaining, remaining, Math.max(0, resetAt - now));
      }
    }
  }

  private void raiseLastAdmit(long t) {
    long last = (long) LAST_ADMIT.getOpaque(this);
    while (t > last && !LAST_ADMIT.compareAndSet(this, last, t)) {
      last = (long) LAST_ADMIT.getOpaque(this);
    }
  }

  /**
   * Closes the open epoch, if any, and counts what it admitted. Must hold the monitor; every locked
   * operation calls it before reading or changing counts.
   */
  void settle(Geometry g) {
    long f;
    do {
      f = fast;
      if ((f & OPEN) == 0) {
        return;
      }
    } while (!FAST.compareAndSet(this, f, f & ~(OPEN | CLAIMED_MASK)));
    int claimed = (int) (f & CLAIMED_MASK);
    if (claimed > 0) {
      // Every claim was before nextChange, so in latest's finest bucket: count them there, at the
      // latest claim's time.
      long t = (long) LAST_ADMIT.getOpaque(this);
      if (t > latest) {
        LATEST.setOpaque(this, t);
      }
      record(claimed, plan, g);
    }
  }

  /**
   * Opens an epoch for {@code plan} at the pair's current time, after a locked check that recorded
   * with it. Must hold the monitor. Opens nothing when some window is full, or when the plan has a
   * burst window whose ring does not exist yet.
   *
   * @return whether an epoch is open
   */
  boolean openEpoch(WindowPlan plan, Geometry g) {
    long room = Long.MAX_VALUE;
    int tightest = -1;
    for (int i = 0; i < plan.size(); i++) {
      long left = plan.limit(i) - count(plan.type(i));
      if (left < room) {
        room = left;
        tightest = i;
      }
    }
    if (tightest < 0 || room <= 0 || (burst == null && plan.limitOf(LimitType.BURST) > 0)) {
      return false;
    }
    LimitType type = plan.type(tightest);
    long resetAt = oldestExpiry(type, g);
    this.plan = plan;
    epochRoom = (int) Math.min(Integer.MAX_VALUE, room);
    epochResetOffset = resetAt == Long.MAX_VALUE ? RESET_MOVES : (int) (resetAt - nextChange);
    long f = fast;
    long sequence = ((f & SEQUENCE_MASK) + (1L << SEQUENCE_SHIFT)) & SEQUENCE_MASK;
    fast = OPEN | ((long) tightest << WINDOW_SHIFT) | sequence;
    return true;
  }

  /** Remembers the plan of a locked admission that opened no epoch (for eviction's judgement). */
  void usePlan(WindowPlan plan) {
    this.plan = plan;
  }

  /** The plan of the latest locked admission, or null before the first. */
  WindowPlan plan() {
    return plan;
  }

  /** Marks the pair removed from the store: no claim succeeds, and a holder must look it up again. */
  void retire(Geometry g) {
    settle(g);
    fast = fast | RETIRED;
  }

  /** Undoes {@link #retire} for a pair brought back into the store. Must hold the monitor. */
  void restore() {
    fast = fast & ~RETIRED;
  }

  boolean isRetired() {
    return fast < 0;
  }

  /**
   * The pair's latest time as last written, readable without the monitor (possibly a little stale:
   * it only ever grows); Long.MIN_VALUE before the first touch.
   */
  long latestTime() {
    return (long) LATEST.getOpaque(this);
  }

  /**
   * How long from {@code now} the pair must be kept, in ms: its counts all sit in buckets no later
   * than {@code latest}'s finest bucket, so they are gone by {@code latest + retainMillis}; and a
   * request counted at {@code now} is gone by {@code now + retainMillis}. After the clock stepped back,
   * the first is the later one.
   */
  long retainFrom(long now) {
    long l = latestTime();
    long ahead = l == Long.MIN_VALUE || l <= now ? 0 : l - now;
    return ahead + retainMillis;
  }

  // ---- counting ----

  /**
   * Moves the windows forward to {@code now}: sweeps out buckets that left them and drops oldest
   * buckets that died.
   *
   * @return the time the pair now stands at: {@code max(now, latest)}
   */
  long advance(long now, Geometry g) {
    long previous = latest;
    if (now <= previous) {
      return previous;
    }
    LATEST.setOpaque(this, now);
    if (now < nextChange) {
      return now;
    }
    if (previous == Long.MIN_VALUE) {
      currentSlots = packSlots(slotAt(now, g.minuteMillis, g), slotAt(now, g.hourMillis, g),
          slotAt(now, g.dayMillis, g));
      if (burst != null) {
        burst[1] = slotAt(now, g.burstMillis, g);
      }
      nextChange = boundaryAfter(now, g);
      return now;
    }
    if (counts == null && (minuteTotal | hourTotal | dayTotal) != 0
        && Math.floorDiv(previous, g.minuteMillis) != Math.floorDiv(now, g.minuteMillis)) {
      materialize(previous, g);
    }
    if (counts != null) {
      minuteTotal = sweep(MINUTE, minuteTotal, previous, now, g.minuteMillis, g);
      hourTotal = sweep(HOUR, hourTotal, previous, now, g.hourMillis, g);
      dayTotal = sweep(DAY, dayTotal, previous, now, g.dayMillis, g);
      minuteTotal -= dropDeadOldest(MINUTE, now, g.minuteMillis, LimitType.MINUTE.windowMillis(), g);
      hourTotal -= dropDeadOldest(HOUR, now, g.hourMillis, LimitType.HOUR.windowMillis(), g);
      dayTotal -= dropDeadOldest(DAY, now, g.dayMillis, LimitType.DAY.windowMillis(), g);
      if ((minuteTotal | hourTotal | dayTotal) == 0) {
        counts = null; // quiet again: the totals (all 0) say everything
        lasts = null;
      }
    } else {
      currentSlots = packSlots(slotAt(now, g.minuteMillis, g), slotAt(now, g.hourMillis, g),
          slotAt(now, g.dayMillis, g));
    }
    if (burst != null) {
      sweepBurst(previous, now, g);
    }
    nextChange = changeAfter(now, g);
    return now;
  }

  /** The earlier of the end of {@code t}'s finest bucket and the death of an oldest bucket. */
  private long changeAfter(long t, Geometry g) {
    long change = boundaryAfter(t, g);
    if (counts != null) {
      change = Math.min(change, oldestDeath(MINUTE, g.minuteMillis, LimitType.MINUTE.windowMillis(), g));
      change = Math.min(change, oldestDeath(HOUR, g.hourMillis, LimitType.HOUR.windowMillis(), g));
      change = Math.min(change, oldestDeath(DAY, g.dayMillis, LimitType.DAY.windowMillis(), g));
    }
    if (burst != null) {
      int[] ring = burst;
      int oldest = next(ring[1], g.stride);
      if (ring[2 + oldest] != 0) {
        long index = Math.floorDiv(latest, g.burstMillis) - g.buckets;
        change = Math.min(change, index * g.burstMillis + ring[2 + g.stride + oldest] + LimitType.BURST.windowMillis());
      }
    }
    return change;
  }

  /** When window's oldest bucket (cur - B) dies, or Long.MAX_VALUE when it counts nothing. */
  private long oldestDeath(int window, long size, long windowMillis, Geometry g) {
    int oldest = next(currentSlot(window), g.stride);
    int i = window * g.stride + oldest;
    if (slotValue(i) == 0) {
      return Long.MAX_VALUE;
    }
    long index = Math.floorDiv(latest, size) - g.buckets;
    return index * size + lasts[i] + windowMillis;
  }

  /** Empties window's oldest bucket if it died by {@code now}; returns what it held. */
  private int dropDeadOldest(int window, long now, long size, long windowMillis, Geometry g) {
    long death = oldestDeath(window, size, windowMillis, g);
    if (now < death) {
      return 0;
    }
    return takeSlot(window * g.stride + next(currentSlot(window), g.stride));
  }

  private static int next(int slot, int stride) {
    return slot + 1 == stride ? 0 : slot + 1;
  }

  private long boundaryAfter(long t, Geometry g) {
    long finest = burst != null ? g.burstMillis : g.minuteMillis;
    return (Math.floorDiv(t, finest) + 1) * finest;
  }

  private static int slotAt(long t, long size, Geometry g) {
    return (int) Math.floorMod(Math.floorDiv(t, size), (long) g.stride);
  }

  private static int packSlots(int minute, int hour, int day) {
    return minute | (hour << SLOT_BITS) | (day << (2 * SLOT_BITS));
  }

  private int currentSlot(int window) {
    return (currentSlots >>> (window * SLOT_BITS)) & SLOT_MASK;
  }

  private void setCurrentSlot(int window, int slot) {
    int shift = window * SLOT_BITS;
    currentSlots = (currentSlots & ~(SLOT_MASK << shift)) | (slot << shift);
  }

  /**
   * Turns "everything is in the current buckets, the latest at lastAdmit" into explicit slots; the
   * current buckets are those of {@code ref}.
   */
  private void materialize(long ref, Geometry g) {
    int max = Math.max(minuteTotal, Math.max(hourTotal, dayTotal));
    int stride = g.stride;
    int m = currentSlot(MINUTE);
    int h = stride + currentSlot(HOUR);
    int d = 2 * stride + currentSlot(DAY);
    if (max > NARROW_MAX) {
      int[] wide = new int[3 * stride];
      wide[m] = minuteTotal;
      wide[h] = hourTotal;
      wide[d] = dayTotal;
      counts = wide;
    } else {
      char[] narrow = new char[3 * stride];
      narrow[m] = (char) minuteTotal;
      narrow[h] = (char) hourTotal;
      narrow[d] = (char) dayTotal;
      counts = narrow;
    }
    int[] l = new int[3 * stride];
    long t = lastAdmit;
    l[m] = offsetIn(t, g.minuteMillis, ref);
    l[h] = offsetIn(t, g.hourMillis, ref);
    l[d] = offsetIn(t, g.dayMillis, ref);
    lasts = l;
  }

  /**
   * The ms of {@code t} from the start of {@code ref}'s bucket, where t should lie; clamped into it (an
   * earlier t, from a claim on a lagging clock, becomes the bucket's start: it counts a little longer).
   */
  private static int offsetIn(long t, long size, long ref) {
    long start = Math.floorDiv(ref, size) * size;
    return (int) Math.max(0, Math.min(size - 1, t - start));
  }

  private int sweep(int window, int total, long from, long to, long size, Geometry g) {
    long oldIndex = Math.floorDiv(from, size);
    long newIndex = Math.floorDiv(to, size);
    if (newIndex == oldIndex) {
      return total;
    }
    int stride = g.stride;
    if (total != 0) {
      int base = window * stride;
      if (newIndex - oldIndex >= stride) {
        clearSlots(base, stride);
        total = 0;
      } else {
        int slot = currentSlot(window);
        for (long i = oldIndex + 1; i <= newIndex; i++) {
          slot = next(slot, stride);
          total -= takeSlot(base + slot);
        }
      }
    }
    setCurrentSlot(window, (int) Math.floorMod(newIndex, (long) stride));
    return total;
  }

  private void clearSlots(int from, int length) {
    if (counts instanceof char[] narrow) {
      Arrays.fill(narrow, from, from + length, (char) 0);
    } else {
      Arrays.fill((int[]) counts, from, from + length, 0);
    }
  }

  /** Reads a slot and empties it. */
  private int takeSlot(int i) {
    if (counts instanceof char[] narrow) {
      int v = narrow[i];
      narrow[i] = 0;
      return v;
    }
    int[] wide = (int[]) counts;
    int v = wide[i];
    wide[i] = 0;
    return v;
  }

  private int slotValue(int i) {
    return counts instanceof char[] narrow ? narrow[i] : ((int[]) counts)[i];
  }

  private void sweepBurst(long from, long to, Geometry g) {
    long size = g.burstMillis;
    long oldIndex = Math.floorDiv(from, size);
    long newIndex = Math.floorDiv(to, size);
    int[] ring = burst;
    int stride = g.stride;
    if (newIndex != oldIndex) {
      if (ring[0] != 0) {
        if (newIndex - oldIndex >= stride) {
          Arrays.fill(ring, 2, 2 + stride, 0);
          ring[0] = 0;
        } else {
          int slot = ring[1];
          int total = ring[0];
          for (long i = oldIndex + 1; i <= newIndex; i++) {
            slot = next(slot, stride);
            total -= ring[2 + slot];
            ring[2 + slot] = 0;
          }
          ring[0] = total;
        }
      }
      ring[1] = (int) Math.floorMod(newIndex, (long) stride);
    }
    int oldest = next(ring[1], stride);
    if (ring[2 + oldest] != 0) {
      long death = (newIndex - g.buckets) * size + ring[2 + stride + oldest] + LimitType.BURST.windowMillis();
      if (to >= death) {
        ring[0] -= ring[2 + oldest];
        ring[2 + oldest] = 0;
      }
    }
  }

  /** What the window counts now; {@link #advance} must have been called at this time. */
  int count(LimitType type) {
    return switch (type) {
      case BURST -> burst == null ? 0 : burst[0];
      case MINUTE -> minuteTotal;
      case HOUR -> hourTotal;
      case DAY -> dayTotal;
      default -> 0;
    };
  }

  /**
   * Counts {@code cost} at the pair's current time ({@code latest}) in every window that {@code plan}
   * enables, creating the burst ring if it enables a burst window. The cost fits every enabled window
   * (the caller checked), so no count passes an int limit.
   */
  void record(int cost, WindowPlan plan, Geometry g) {
    long t = latest;
    boolean minute = plan.limitOf(LimitType.MINUTE) > 0;
    boolean hour = plan.limitOf(LimitType.HOUR) > 0;
    boolean day = plan.limitOf(LimitType.DAY) > 0;
    if (plan.limitOf(LimitType.BURST) > 0) {
      int stride = g.stride;
      int[] ring = burst;
      if (ring == null) {
        ring = new int[2 + 2 * stride];
        if (t != Long.MIN_VALUE) {
          ring[1] = slotAt(t, g.burstMillis, g);
        }
        burst = ring;
      }
      ring[0] += cost;
      ring[2 + ring[1]] += cost;
      ring[2 + stride + ring[1]] = offsetIn(t, g.burstMillis, t);
    }
    if (counts == null && ((!minute && minuteTotal != 0) || (!hour && hourTotal != 0) || (!day && dayTotal != 0))) {
      materialize(t, g); // a window this plan leaves out keeps its own, earlier, last
    }
    if (minute) {
      minuteTotal += cost;
    }
    if (hour) {
      hourTotal += cost;
    }
    if (day) {
      dayTotal += cost;
    }
    if (counts != null) {
      addToSlots(cost, minute, hour, day, t, g);
    }
    raiseLastAdmit(t);
    nextChange = t == Long.MIN_VALUE ? Long.MIN_VALUE : changeAfter(t, g);
  }

  private void addToSlots(int n, boolean minute, boolean hour, boolean day, long t, Geometry g) {
    int stride = g.stride;
    int m = currentSlot(MINUTE);
    int h = stride + currentSlot(HOUR);
    int d = 2 * stride + currentSlot(DAY);
    if (counts instanceof char[] narrow) {
      int highest = Math.max(minute ? narrow[m] : 0, Math.max(hour ? narrow[h] : 0, day ? narrow[d] : 0));
      if ((long) highest + n > NARROW_MAX) {
        int[] wide = new int[narrow.length];
        for (int i = 0; i < narrow.length; i++) {
          wide[i] = narrow[i];
        }
        counts = wide;
      }
    }
    int[] l = lasts;
    if (counts instanceof char[] narrow) {
      if (minute) {
        narrow[m] += (char) n;
      }
      if (hour) {
        narrow[h] += (char) n;
      }
      if (day) {
        narrow[d] += (char) n;
      }
    } else {
      int[] wide = (int[]) counts;
      if (minute) {
        wide[m] += n;
      }
      if (hour) {
        wide[h] += n;
      }
      if (day) {
        wide[d] += n;
      }
    }
    if (minute) {
      l[m] = offsetIn(t, g.minuteMillis, t);
    }
    if (hour) {
      l[h] = offsetIn(t, g.hourMillis, t);
    }
    if (day) {
      l[d] = offsetIn(t, g.dayMillis, t);
    }
  }

  /**
   * When the window's oldest live bucket dies, or Long.MAX_VALUE when that is its current bucket (or
   * it counts nothing): the time the window's count next falls, unless it moves with new admissions.
   */
  private long oldestExpiry(LimitType type, Geometry g) {
    if (count(type) == 0) {
      return Long.MAX_VALUE;
    }
    long w = type.windowMillis();
    long size = g.bucketMillis(type);
    long cur = Math.floorDiv(latest, size);
    if (type == LimitType.BURST) {
      int[] ring = burst;
      int stride = g.stride;
      int slot = next(ring[1], stride);
      for (long b = cur - g.buckets; b < cur; b++) {
        if (ring[2 + slot] != 0) {
          return b * size + ring[2 + stride + slot] + w;
        }
        slot = next(slot, stride);
      }
      return Long.MAX_VALUE;
    }
    if (counts == null) {
      return Long.MAX_VALUE;
    }
    int window = windowIndex(type);
    int base = window * g.stride;
    int slot = next(currentSlot(window), g.stride);
    for (long b = cur - g.buckets; b < cur; b++) {
      if (slotValue(base + slot) != 0) {
        return b * size + lasts[base + slot] + w;
      }
      slot = next(slot, g.stride);
    }
    return Long.MAX_VALUE;
  }

  private static int windowIndex(LimitType type) {
    return type == LimitType.MINUTE ? MINUTE : type == LimitType.HOUR ? HOUR : DAY;
  }

  /**
   * Ms from {@code now} until {@code needed} of the window's count has left it (WindowMath's walk,
   * oldest bucket first); {@link Outcome#NEVER} if it holds less. {@link #advance} must have been
   * called at this time.
   */
  long millisUntilFreed(LimitType type, long needed, long now, Geometry g) {
    if (count(type) < needed) {
      return Outcome.NEVER;
    }
    long w = type.windowMillis();
    long size = g.bucketMillis(type);
    long cur = Math.floorDiv(latest, size);
    int stride = g.stride;
    long sum = 0;
    if (type == LimitType.BURST) {
      int[] ring = burst;
      int slot = next(ring[1], stride);
      for (long b = cur - g.buckets; b <= cur; b++) {
        sum += ring[2 + slot];
        if (ring[2 + slot] != 0 && sum >= needed) {
          return Math.max(0, b * size + ring[2 + stride + slot] + w - now);
        }
        slot = next(slot, stride);
      }
      return Outcome.NEVER;
    }
    if (counts == null) {
      return Math.max(0, lastAdmit + w - now); // everything counted sits in the current bucket
    }
    int base = windowIndex(type) * stride;
    int slot = next(currentSlot(windowIndex(type)), stride);
    for (long b = cur - g.buckets; b <= cur; b++) {
      int c = slotValue(base + slot);
      sum += c;
      if (c != 0 && sum >= needed) {
        return Math.max(0, b * size + lasts[base + slot] + w - now);
      }
      slot = next(slot, stride);
    }
    return Outcome.NEVER;
  }

  /** Ms from {@code now} until the window's count next falls; 0 when it counts nothing. */
  long millisUntilReset(LimitType type, long now, Geometry g) {
    return count(type) == 0 ? 0 : millisUntilFreed(type, 1, now, g);
  }

  /**
   * Whether every window that {@code plan} enables counts nothing at {@code now} (judged on a copy
   * when {@code now} is ahead: the pair's time does not move). Counts kept in disabled windows do not keep a pair alive, just as they do not extend its
   * expiry.
   */
  boolean isQuiet(long now, WindowPlan plan, Geometry g) {
    WindowState at = readingAt(now, g);
    long time = at.advance(now, g);
    for (int i = 0; i < plan.size(); i++) {
      if (at.count(plan.type(i)) > 0) {
        return false;
      }
    }
    return tokens == null || !tokens.counts(plan, time);
  }

  /** The token windows, or null while none has counted. Must hold the monitor. */
  TokenWindows tokens() {
    return tokens;
  }

  /** The token windows, created if needed. Must hold the monitor. */
  TokenWindows tokens(Geometry g) {
    TokenWindows t = tokens;
    if (t == null) {
      t = tokens = new TokenWindows(g.buckets);
    }
    return t;
  }

  /** Whether the pair was touched in the finest bucket of {@code now} (or the clock is behind it). */
  boolean touchedInBucketOf(long now, Geometry g) {
    return latest != Long.MIN_VALUE && now < boundaryAfter(latest, g);
  }

  /** Whether some window of {@code plan} counts more than one request; settled and advanced. */
  boolean countsMoreThanOne(WindowPlan plan) {
    for (int i = 0; i < plan.size(); i++) {
      if (count(plan.type(i)) > 1) {
        return true;
      }
    }
    return false;
  }

  /** Whether some window of {@code plan}, request or token, is full at {@code now} (after advancing to it). */
  boolean isAtLimit(long now, WindowPlan plan, Geometry g) {
    settle(g);
    long at = advance(now, g);
    for (int i = 0; i < plan.size(); i++) {
      if (count(plan.type(i)) >= plan.limit(i)) {
        return true;
      }
    }
    return tokens != null && tokens.isFull(plan, at);
  }
}
