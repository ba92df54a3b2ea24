package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
 * Time: one timestamp, the latest time the pair was touched, serves every window: a window's newest
 * live bucket is that time's bucket. If the clock moves back, the pair keeps counting at its latest
 * time, so buckets "from the future" stay counted and nothing is forgotten; waits are still measured
 * from the real now. For the same reason the store keeps an idle pair until max(now, latest) plus its
 * retention ({@link #retainFrom}), not merely until the clock's now plus it: after a step back the
 * counts last until latest's buckets leave the windows, however the pair is used meanwhile. Only
 * enabled windows count a request, so a disabled window reports 0 and no count can pass its window's
 * limit (no int overflow, whatever the traffic). The burst ring exists only once a burst limit has
 * applied to the pair.
 *
 * Cost. A check is O(1) and divides nothing while time stays in the same bucket: the bucket lengths nest
 * (burst 1/60 of minute, minute 1/60 of hour, hour 1/24 of day, for every allowed B), so every bucket
 * boundary of every window is a boundary of the finest counted window, and one comparison with the end
 * of that finest bucket (`nextBoundary`) tells whether any window has to move. Only then are bucket
 * indexes computed and the buckets that left the windows swept out. The slot each window writes to is
 * kept, packed in one int.
 *
 * Admission without the lock. Between two bucket boundaries every admitted request adds one to every
 * enabled window, so how many more requests the pair admits before some window is full is known in advance:
 * room = min over enabled windows of (limit - count). After each locked check that admits, the pair
 * opens an "epoch" holding that room, the binding window (the argmin, first in check order on a tie) and
 * its count, for the config it was computed with. Until the finest bucket ends, a check with the same
 * config claims one request of the epoch with a single compare-and-set on `fast` (open flag, binding
 * window, a sequence number, and k, the requests claimed), and its result follows from the epoch: the
 * binding window counts base + k, and `remaining` is room - k. Claims are therefore exactly the
 * requests the locked path would have admitted, in the same order. Any locked operation first closes
 * the epoch (a compare-and-set that clears the open flag, so that no claim lands after it) and folds
 * its k requests into the counts; they all belong to the current bucket. The sequence number changes
 * with every epoch, so a claim computed from an older epoch's fields cannot succeed.
 *
 * Claims do not move `latest` (only locked operations write it), where the locked path would have moved
 * it to the claim's time. Both lie in the same finest bucket, hence in the same bucket of every window,
 * so the counts and the times they leave are the same. A difference can show only if the clock then
 * steps back to between `latest` and that claim's time: the pair then stands at max(now, latest), not
 * at the claim's time. That is never before the new request's own time, so a request is still counted
 * for at least W (safe), but the bucket it is counted in, and so a wait, can differ slightly from the
 * locked path's: a burst window newly enabled by a config change may count it in an earlier burst
 * bucket, and the idle expiry ({@link #retainFrom}) is measured from the earlier `latest` (which still
 * covers every count: they leave with `latest`'s bucket).
 *
 * Memory, per pair (this object is both the cache key and its value):
 *   - the pair's name, user and endpoint packed in one byte[] (one byte per char when every char is
 *     Latin-1, else two), instead of two String objects;
 *   - one running total per window, in fields;
 *   - the per-bucket counts of minute, hour and day in one array of 3 * (B + 1) slots, and only once
 *     they are needed: while every request of the pair still sits in the current bucket of each window
 *     (a pair seen in one bucket only, the common case for most of a large key population), the totals
 *     say everything and no array exists. It is created at the first bucket boundary crossed with
 *     something counted, as a char[] (16-bit counts), widened to an int[] if a bucket ever holds 65,535
 *     requests, and dropped again when every window has emptied.
 */

/**
 * The windows of one (user, endpoint) pair, and the pair's identity in the store: an instance is its
 * own cache key (see {@link WindowKey} for the transient lookup form). Not thread-safe by itself: every
 * method that reads or writes counts must be called while holding this object's monitor.
 */
final class WindowState {
  private static final int MINUTE = 0;
  private static final int HOUR = 1;
  private static final int DAY = 2;
  private static final int SLOT_BITS = 10;
  private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;
  private static final char NARROW_MAX = Character.MAX_VALUE;

  // The bits of `fast`: retired, open, binding window ordinal (2 bits), sequence (28 bits), k (32 bits).
  private static final long RETIRED = 1L << 63;
  private static final long OPEN = 1L << 62;
  private static final int WINDOW_SHIFT = 60;
  private static final int SEQUENCE_SHIFT = 32;
  private static final long SEQUENCE_MASK = ((1L << 28) - 1) << SEQUENCE_SHIFT;
  private static final long CLAIMED_MASK = 0xFFFF_FFFFL;
  private static final LimitType[] TYPES = LimitType.values();
  private static final VarHandle FAST;
  private static final VarHandle LATEST;

  static {
    try {
      FAST = MethodHandles.lookup().findVarHandle(WindowState.class, "fast", long.class);
      LATEST = MethodHandles.lookup().findVarHandle(WindowState.class, "latest", long.class);
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
  /** The end of {@code latest}'s bucket in the finest counted window: before it, nothing moves. */
  private long nextBoundary = Long.MIN_VALUE;
  private int minuteTotal;
  private int hourTotal;
  private int dayTotal;
  /** The slot of the current bucket of minute, hour and day, 10 bits each. */
  private int currentSlots;
  /** null (all counts in the current buckets), char[] or int[]; window w's slots at w * (B + 1). */
  private Object counts;
  /** [total, current slot, slot 0 .. slot B] of the burst window, or null until a burst limit applies. */
  private int[] burst;
  /** The lock-free admission word; see the essay. Written under the monitor, except by claims. */
  private volatile long fast;
  /** The config the open epoch was computed for; valid while {@code fast} is open. */
  private RateLimitConfig epochConfig;
  /** Requests the open epoch admits in all. */
  private int epochRoom;
  /**
   * When the binding window's count next falls, as an offset from {@code nextBoundary}: fixed for the
   * epoch, since its oldest counted bucket cannot change before the finest bucket ends.
   */
  private int epochResetOffset;
  /** How long the pair must outlive its last use, in ms (longest enabled window plus one bucket). */
  volatile int retainMillis;

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

  private static boolean isLatin1(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0xFF) {
        return false;
      }
    }
    return true;
  }

  /** The shape shared by every pair of a limiter: bucket count and bucket sizes. */
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
   * Admits and counts one request without the lock if an epoch for {@code config} is open at
   * {@code now}. May be called without holding the monitor.
   *
   * @return the result, exactly as the locked path would give it, or null to take the locked path
   */
  RateLimitResult tryClaim(RateLimitConfig config, long now, Binding binding) {
    while (true) {
      long f = fast;
      long end = nextBoundary;
      if ((f & (RETIRED | OPEN)) != OPEN || epochConfig != config || now >= end) {
        return null;
      }
      int room = epochRoom;
      int resetOffset = epochResetOffset;
      long claimed = f & CLAIMED_MASK;
      if (claimed >= room) {
        return null;
      }
      if (FAST.compareAndSet(this, f, f + 1)) {
        LimitType window = TYPES[(int) (f >>> WINDOW_SHIFT) & 3];
        long limit = config.limitFor(window);
        long remaining = room - claimed - 1;
        if (binding != null) {
          binding.window = window;
          binding.resetSeconds = ceilSeconds(Math.max(0, end + resetOffset - now));
        }
        // The binding window held limit - room when the epoch opened: now limit - remaining.
        return RateLimitResult.allowed(limit - remaining, limit, remaining);
      }
    }
  }

  /** What {@link RateLimiter#decide} adds to a result, filled in by whoever decides. */
  static final class Binding {
    RateLimitConfig config;
    LimitType window;
    long resetSeconds;
  }

  static long ceilSeconds(long millis) {
    return (millis + 999) / 1000;
  }

  /**
   * Closes the open epoch, if any, and counts the requests it admitted. Must hold the monitor; every
   * locked operation calls it before reading or changing counts.
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
      record(claimed, epochConfig, g);
    }
  }

  /**
   * Opens an epoch for {@code config} at the pair's current time, after a locked check that recorded.
   * Must hold the monitor, after {@link #settle()} and {@link #advance}. Opens nothing when some
   * enabled window is full or none is enabled, or the binding window counts nothing (its reset time
   * would then move with the first claim).
   *
   * @return whether an epoch is open
   */
  boolean openEpoch(RateLimitConfig config, Geometry g) {
    long room = Long.MAX_VALUE;
    int binding = -1;
    for (LimitType type : TYPES) {
      int limit = config.limitFor(type);
      if (limit > 0) {
        int count = count(type);
        if (limit - (long) count < room) {
          room = limit - (long) count;
          binding = type.ordinal();
        }
      }
    }
    if (binding < 0 || room <= 0 || (config.burstSize() > 0 && burst == null) || count(TYPES[binding]) == 0) {
      return false;
    }
    long resetAt = latest + millisUntilDrop(TYPES[binding], 1, latest, g);
    epochConfig = config;
    epochRoom = (int) room;
    epochResetOffset = (int) (resetAt - nextBoundary);
    long f = fast;
    long sequence = ((f & SEQUENCE_MASK) + (1L << SEQUENCE_SHIFT)) & SEQUENCE_MASK;
    fast = OPEN | ((long) binding << WINDOW_SHIFT) | sequence;
    return true;
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
   * than {@code latest}'s, so they are gone by {@code latest + retainMillis}; and a request counted
   * at {@code now} is gone by {@code now + retainMillis}. After the clock stepped back, the first is
   * the later one.
   */
  long retainFrom(long now) {
    long l = latestTime();
    long ahead = l == Long.MIN_VALUE || l <= now ? 0 : l - now;
    return ahead + retainMillis;
  }

  // ---- counting ----

  /**
   * Moves the windows forward to {@code now}, dropping buckets that left them.
   *
   * @return the time the pair now stands at: {@code max(now, latest)}
   */
  long advance(long now, Geometry g) {
    long previous = latest;
    if (now <= previous) {
      return previous;
    }
    LATEST.setOpaque(this, now);
    if (now < nextBoundary) {
      return now;
    }
    if (previous == Long.MIN_VALUE) {
      currentSlots = packSlots(slotAt(now, g.minuteMillis, g), slotAt(now, g.hourMillis, g),
          slotAt(now, g.dayMillis, g));
      if (burst != null) {
        burst[1] = slotAt(now, g.burstMillis, g);
      }
      nextBoundary = boundaryAfter(now, g);
      return now;
    }
    if (counts == null && (minuteTotal | hourTotal | dayTotal) != 0) {
      materialize(g);
    }
    minuteTotal = sweep(MINUTE, minuteTotal, previous, now, g.minuteMillis, g);
    hourTotal = sweep(HOUR, hourTotal, previous, now, g.hourMillis, g);
    dayTotal = sweep(DAY, dayTotal, previous, now, g.dayMillis, g);
    if (counts != null && (minuteTotal | hourTotal | dayTotal) == 0) {
      counts = null; // quiet again: the totals (all 0) say everything
    }
    if (burst != null) {
      sweepBurst(previous, now, g);
    }
    nextBoundary = boundaryAfter(now, g);
    return now;
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

  /** Turns "everything is in the current buckets" into explicit slots. */
  private void materialize(Geometry g) {
    int max = Math.max(minuteTotal, Math.max(hourTotal, dayTotal));
    int stride = g.stride;
    if (max > NARROW_MAX) {
      int[] wide = new int[3 * stride];
      wide[currentSlot(MINUTE)] = minuteTotal;
      wide[stride + currentSlot(HOUR)] = hourTotal;
      wide[2 * stride + currentSlot(DAY)] = dayTotal;
      counts = wide;
    } else {
      char[] narrow = new char[3 * stride];
      narrow[currentSlot(MINUTE)] = (char) minuteTotal;
      narrow[stride + currentSlot(HOUR)] = (char) hourTotal;
      narrow[2 * stride + currentSlot(DAY)] = (char) dayTotal;
      counts = narrow;
    }
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
          slot = slot + 1 == stride ? 0 : slot + 1;
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
    if (newIndex == oldIndex) {
      return;
    }
    int[] ring = burst;
    int stride = g.stride;
    if (ring[0] != 0) {
      if (newIndex - oldIndex >= stride) {
        Arrays.fill(ring, 2, 2 + stride, 0);
        ring[0] = 0;
      } else {
        int slot = ring[1];
        int total = ring[0];
        for (long i = oldIndex + 1; i <= newIndex; i++) {
          slot = slot + 1 == stride ? 0 : slot + 1;
          total -= ring[2 + slot];
          ring[2 + slot] = 0;
        }
        ring[0] = total;
      }
    }
    ring[1] = (int) Math.floorMod(newIndex, (long) stride);
  }

  /** Requests counted in the window now; {@link #advance} must have been called at this time. */
  int count(LimitType type) {
    return switch (type) {
      case BURST -> burst == null ? 0 : burst[0];
      case MINUTE -> minuteTotal;
      case HOUR -> hourTotal;
      case DAY -> dayTotal;
    };
  }

  int burstCount() {
    return burst == null ? 0 : burst[0];
  }

  int minuteCount() {
    return minuteTotal;
  }

  int hourCount() {
    return hourTotal;
  }

  int dayCount() {
    return dayTotal;
  }

  /**
   * Counts {@code n} requests at the pair's current time in every window that {@code config} enables,
   * creating the burst ring if it enables a burst window.
   */
  void record(int n, RateLimitConfig config, Geometry g) {
    if (config.burstSize() > 0) {
      int[] ring = burst;
      if (ring == null) {
        ring = new int[g.stride + 2];
        if (latest != Long.MIN_VALUE) {
          ring[1] = slotAt(latest, g.burstMillis, g);
        }
        burst = ring;
        nextBoundary = latest == Long.MIN_VALUE ? Long.MIN_VALUE : boundaryAfter(latest, g);
      }
      ring[0] += n;
      ring[2 + ring[1]] += n;
    }
    boolean minute = config.requestsPerMinute() > 0;
    boolean hour = config.requestsPerHour() > 0;
    boolean day = config.requestsPerDay() > 0;
    if (minute) {
      minuteTotal += n;
    }
    if (hour) {
      hourTotal += n;
    }
    if (day) {
      dayTotal += n;
    }
    Object c = counts;
    if (c != null) {
      addToSlots(c, n, minute, hour, day);
    }
  }

  private void addToSlots(Object c, int n, boolean minute, boolean hour, boolean day) {
    int slots = currentSlots;
    int stride = (c instanceof char[] a ? a.length : ((int[]) c).length) / 3;
    int m = slots & SLOT_MASK;
    int h = stride + ((slots >>> SLOT_BITS) & SLOT_MASK);
    int d = 2 * stride + (slots >>> (2 * SLOT_BITS));
    if (c instanceof char[] narrow) {
      int highest = Math.max(minute ? narrow[m] : 0, Math.max(hour ? narrow[h] : 0, day ? narrow[d] : 0));
      if (highest + n <= NARROW_MAX) {
        if (minute) {
          narrow[m] += (char) n;
        }
        if (hour) {
          narrow[h] += (char) n;
        }
        if (day) {
          narrow[d] += (char) n;
        }
        return;
      }
      int[] wide = new int[narrow.length];
      for (int i = 0; i < narrow.length; i++) {
        wide[i] = narrow[i];
      }
      counts = wide;
      c = wide;
    }
    int[] wide = (int[]) c;
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

  /**
   * Milliseconds from {@code now} until the window's count drops below {@code limit}, assuming it is
   * {@code >= limit} now; see the essay above.
   */
  long millisUntilSlot(LimitType type, long limit, long now, Geometry g) {
    return millisUntilDrop(type, count(type) - limit + 1, now, g);
  }

  /** Milliseconds from {@code now} until the window's count next falls; 0 when it counts nothing. */
  long millisUntilReset(LimitType type, long now, Geometry g) {
    return count(type) == 0 ? 0 : millisUntilDrop(type, 1, now, g);
  }

  private long millisUntilDrop(LimitType type, long needed, long now, Geometry g) {
    long size = g.bucketMillis(type);
    int buckets = g.buckets;
    long newest = Math.floorDiv(latest, size);
    if (type != LimitType.BURST && counts == null) {
      // Everything counted sits in the newest bucket.
      return Math.max(0, (newest + buckets + 1) * size - now);
    }
    int stride = g.stride;
    int base;
    int slot;
    if (type == LimitType.BURST) {
      base = 2;
      slot = burst[1];
    } else {
      int window = type == LimitType.MINUTE ? MINUTE : type == LimitType.HOUR ? HOUR : DAY;
      base = window * stride;
      slot = currentSlot(window);
    }
    slot = slot + 1 == stride ? 0 : slot + 1; // the oldest live bucket, newest - B
    long sum = 0;
    for (long b = newest - buckets; b <= newest; b++) {
      sum += type == LimitType.BURST ? burst[base + slot] : slotValue(base + slot);
      if (sum >= needed) {
        return Math.max(0, (b + buckets + 1) * size - now);
      }
      slot = slot + 1 == stride ? 0 : slot + 1;
    }
    // Unreachable while count >= needed; kept total for safety: the newest bucket's end.
    return Math.max(0, (newest + buckets + 1) * size - now);
  }

  /**
   * Whether every window that {@code config} enables counts nothing at {@code now} (after advancing
   * to it). Counts kept in disabled windows do not keep a pair alive, just as they do not extend its
   * expiry.
   */
  boolean isQuiet(long now, RateLimitConfig config, Geometry g) {
    settle(g);
    advance(now, g);
    for (LimitType type : LimitType.values()) {
      if (config.limitFor(type) > 0 && count(type) > 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the pair was touched in the finest bucket of {@code now} (or the clock is behind it): it is
   * in use now. Call before {@link #advance} to {@code now}.
   */
  boolean touchedInBucketOf(long now) {
    return latest != Long.MIN_VALUE && now < nextBoundary;
  }

  /**
   * Whether some window that {@code config} enables counts more than one request; the counts must be
   * settled and advanced.
   */
  boolean countsMoreThanOne(RateLimitConfig config) {
    for (LimitType type : TYPES) {
      if (config.limitFor(type) > 0 && count(type) > 1) {
        return true;
      }
    }
    return false;
  }

  /** Whether some window that {@code config} enables is full at {@code now} (after advancing to it). */
  boolean isAtLimit(long now, RateLimitConfig config, Geometry g) {
    settle(g);
    advance(now, g);
    for (LimitType type : LimitType.values()) {
      int limit = config.limitFor(type);
      if (limit > 0 && count(type) >= limit) {
        return true;
      }
    }
    return false;
  }
}
