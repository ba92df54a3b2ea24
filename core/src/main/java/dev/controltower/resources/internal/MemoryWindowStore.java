package dev.controltower.resources.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import java.time.Duration;
import java.time.InstantSource;
import dev.controltower.spi.TokenGrant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-memory {@link WindowStore}, the default: window state per (user, endpoint) pair in a Caffeine
 * cache, bounded by size and expiring once idle. The rule is {@link dev.controltower.spi.WindowMath}'s;
 * how a pair keeps it, and admits without its lock, is explained in {@link WindowState}.
 *
 * <p>Atomicity: the cache hands out one {@link WindowState} per pair; a check locks that state, so
 * checks on one pair are serialized and checks on different pairs never contend. A state removed from
 * the cache (evicted, expired, reset, cleaned up) is marked retired under its lock, and a check that
 * finds its state retired looks the pair up again, so no admission is ever counted in a dead state.
 *
 * <p>Flood resistance: when the size bound evicts a pair that is at its limit in some window, the pair
 * is parked in a small reserve (1/16 of {@code maximumKeys}, taken out of the bound, so the total stays
 * within it) and brought back on its next check. A client that invents keys to push its own exhausted
 * pair out of the cache therefore finds it again; to evict it from the reserve it would have to exhaust
 * thousands of other pairs first. Pairs below their limit can lose their counts under such a flood:
 * that is the price of bounded memory, and it cannot lift anyone above a limit they had reached.
 *
 * <p>A pair in active use is spared that as far as possible. Most of its requests are claimed without
 * the store, so the store is read once every {@value #TOUCH_EVERY} of them whatever the limit (every
 * {@value #TOUCH_EVERY_LATER} once the pair counts {@value #TOUCH_DENSE_BELOW}), which keeps its
 * frequency in the eviction policy close to what every request going through the store gave.
 * And a pair that the size bound evicts while busy (more than one request counted and touched in the
 * current finest bucket) goes to a second, smaller reserve ({@code busy}: a quarter of the reserve, so
 * the bound is unchanged) for one minute bucket, and is brought back from there like a parked one. The
 * busy reserve is separate so that pairs merely in use, which anyone can make cheaply, never compete
 * with exhausted pairs for a place in the parked one.
 *
 * <p>The hot path (an admitted, recorded check of a pair in the front table) takes {@code now} from the
 * limiter, allocates the {@link Outcome} and nothing else (not even the lookup key), and divides
 * nothing unless a count can change; see {@link WindowState} for the layout that keeps a pair small.
 */
public final class MemoryWindowStore implements WindowStore {
  /** The most slots of the front table, a power of two. */
  private static final int FRONT_SLOTS = 1024;
  /**
   * A claim through the front table also reads the pair in the store once per this many requests
   * (when the binding window's count is a multiple of it: consecutive claims give consecutive counts),
   * whatever the limit, while that count is under {@value #TOUCH_DENSE_BELOW}; once per
   * {@value #TOUCH_EVERY_LATER} above. Powers of two. The read feeds the eviction policy's frequency
   * sketch: at once per 64 requests counted from the remaining room, so about once per epoch for limits
   * under 64, a busy pair looked rare to it (the sketch halves its counts every ~10 x maximumKeys
   * recorded accesses, every few milliseconds under a flood of invented keys) and was evicted under such
   * a flood far more often than when every request read the store. Above the threshold a pair is busy
   * enough to be seen often, a pair evicted while busy is kept in the busy reserve anyway, and the
   * reads cost the hottest pairs little: under wrk, JFR inside RateLimitFilter found 14 of 303 filter
   * samples in these reads at once per 64 (mostly the common-pool wake-up that drains the read
   * buffer), hence once per 1,024. The dense reads add at most 64 per 512 requests counted.
   */
  private static final int TOUCH_EVERY = 8;
  private static final int TOUCH_DENSE_BELOW = 512;
  private static final int TOUCH_EVERY_LATER = 1024;

  private final InstantSource clock;
  private final WindowState.Geometry geometry;
  /** Keys are the {@link WindowState}s themselves; lookups pass a {@link WindowKey} equal to one. */
  private final Cache<Object, WindowState> windows;
  /** Pairs at their limit that the size bound pushed out of {@link #windows}; see the class comment. */
  private final Cache<Object, WindowState> parked;
  /** Busy pairs below their limit that the size bound pushed out, briefly; see the class comment. */
  private final Cache<Object, WindowState> busy;
  /** Whether {@link #busy} has room for any pair at all (not under 64 keys). */
  private final boolean keepsBusy;
  /** Every store: {@link #windows} and the reserves. */
  private final List<Cache<Object, WindowState>> stores;
  private final Policy.VarExpiration<Object, WindowState> expiration;
  private final AtomicLong expiredEvictions = new AtomicLong();
  /**
   * A direct-mapped table of pairs with an open epoch, by hash: a busy pair is admitted without a
   * store lookup. Plain, racy reads and writes: an entry is only a hint, verified by hash and name, and
   * a retired pair refuses claims. The store still sees every pair at each epoch opening (at least once
   * per finest bucket), which keeps its idle expiry correct (an epoch's requests belong to the bucket of
   * the pair's latest time, so they leave every window no later than one retention after that time,
   * and the expiry is measured from it when it is ahead of the clock), and once per
   * {@value #TOUCH_EVERY} (or {@value #TOUCH_EVERY_LATER}) claims, which keeps its eviction ranking
   * informed.
   *
   * <p>The table holds live pairs only: a pair's slot is cleared when it is retired (evicted, expired,
   * parked, reset or cleaned up), under the pair's lock, so that it cannot keep removed pairs (and their
   * names and arrays) reachable; and it has at most {@code maximumKeys} slots (rounded down to a power
   * of two), so that even its stale entries stay within the bound.
   */
  private final WindowState[] front;
  private final int[] frontHashes;
  private final int frontMask;
  /**
   * The pairs that hold concurrency permits now, apart from the windows: a permit must outlive any
   * eviction of its pair's windows, and a pair without running requests has no entry. Bounded by the
   * requests running at once, plus leaked permits until their leases end.
   */
  private final ConcurrentHashMap<RateLimitKey, Permits> permits = new ConcurrentHashMap<>();
  private final AtomicLong nextPermit = new AtomicLong();

  /**
   * Use {@link dev.controltower.resources.RateLimiter#builder()}, which builds one unless given a store.
   *
   * @param clock the time source of expiry and eviction (the limiter's clock: the same {@code now})
   * @param maximumKeys the most pairs held
   * @param bucketCount buckets per window, a divisor of 1000
   */
  public MemoryWindowStore(InstantSource clock, long maximumKeys, int bucketCount) {
    if (maximumKeys < 1) {
      throw new IllegalArgumentException("maximumKeys must be >= 1 but was " + maximumKeys);
    }
    this.clock = Objects.requireNonNull(clock, "clock must not be null");
    this.geometry = new WindowState.Geometry(bucketCount);
    int frontSlots = (int) Long.highestOneBit(Math.max(1, Math.min(maximumKeys, FRONT_SLOTS)));
    this.front = new WindowState[frontSlots];
    this.frontHashes = new int[frontSlots];
    this.frontMask = frontSlots - 1;
    long reserve = maximumKeys / 16;
    long busyReserve = reserve / 4;
    this.keepsBusy = busyReserve > 0;
    this.parked = Caffeine.newBuilder()
        .maximumSize(reserve - busyReserve)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new IdleExpiry())
        .build();
    this.busy = Caffeine.newBuilder()
        .maximumSize(busyReserve)
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfterWrite(Duration.ofMillis(geometry.minuteMillis))
        .build();
    this.windows = Caffeine.newBuilder()
        .maximumSize(maximumKeys - reserve)
        // Maintenance stays on the common pool (the default). Running it on the caller (executor
        // Runnable::run) saved the pool wake-ups on a busy pair, but the front table now spares busy
        // pairs most store reads, and on many keys the callers paid for the whole drain: random keys
        // 0.46-0.87 op/us inline against 0.75-1.55 on the pool, in the same runs.
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        .expireAfter(new IdleExpiry())
        .evictionListener(this::onEviction)
        .build();
    this.expiration = windows.policy().expireVariably().orElseThrow();
    this.stores = List.of(windows, parked, busy);
  }

  /**
   * Runs inside the cache's eviction, under its lock for the key: retires the state, and, if the size
   * bound evicted it, parks it when it is at its limit or keeps it in the busy reserve when it is in
   * use (see the class comment). A check for the pair meanwhile waits for the lock for the key, so it
   * finds the pair in a reserve.
   */
  private void onEviction(Object key, WindowState state, RemovalCause cause) {
    if (state == null) {
      return;
    }
    if (cause == RemovalCause.EXPIRED) {
      expiredEvictions.incrementAndGet();
    }
    Cache<Object, WindowState> reserve = null;
    synchronized (state) {
      long now = clock.millis();
      boolean recent = state.touchedInBucketOf(now, geometry);
      retire(state);
      WindowPlan plan = state.plan();
      if (cause == RemovalCause.SIZE && plan != null) {
        if (state.isAtLimit(now, plan, geometry)) {
          reserve = parked;
        } else if (keepsBusy && recent && state.countsMoreThanOne(plan)) {
          reserve = busy;
        }
      }
    }
    if (reserve != null) {
      reserve.put(state, state);
    }
  }

  /**
   * Marks the pair removed from the store (see {@link WindowState#retire}) and clears its front table
   * slot if it still holds it. Must hold the pair's monitor: a check fills the slot under it, and only
   * for a pair it found not retired.
   */
  private void retire(WindowState state) {
    state.retire(geometry);
    int slot = frontSlot(state.hashCode());
    if (front[slot] == state) {
      front[slot] = null;
    }
  }

  private int frontSlot(int hash) {
    return (hash ^ (hash >>> 16)) & frontMask;
  }

  /**
   * The pair's state for a new admission: the live one, one brought back from a reserve, or a fresh
   * one.
   * A new entry's key is a state of the pair (the fresh one), so that the store never holds the
   * caller's strings.
   */
  private WindowState stateFor(WindowKey key, WindowPlan plan) {
    WindowState state = windows.getIfPresent(key);
    if (state != null) {
      return state;
    }
    WindowState fresh = new WindowState(key.user, key.endpoint, key.hashCode(), (int) plan.retainMillis());
    return windows.asMap().computeIfAbsent(fresh, k -> {
      WindowState back = parked.asMap().remove(k);
      if (back == null) {
        back = busy.asMap().remove(k);
      }
      if (back == null) {
        return fresh;
      }
      synchronized (back) {
        back.restore();
      }
      return back;
    });
  }

  /** The pair's state for reading, live or in a reserve, or null; creates nothing. */
  private WindowState peek(WindowKey key) {
    WindowState state = windows.getIfPresent(key);
    if (state == null) {
      state = parked.getIfPresent(key);
    }
    return state != null ? state : busy.getIfPresent(key);
  }

  /**
   * Keeps a pair for its longest enabled window plus one bucket after its last use, measured from the
   * pair's own time when that is ahead of the clock (the clock stepped back: the pair keeps counting
   * at its latest time, and so must be kept until those counts are gone, even if only claims through
   * the front table, which do not touch the store, use it meanwhile).
   */
  private static final class IdleExpiry implements Expiry<Object, WindowState> {
    @Override
    public long expireAfterCreate(Object key, WindowState state, long currentTime) {
      return retainNanos(state, currentTime);
    }

    @Override
    public long expireAfterUpdate(Object key, WindowState state, long currentTime, long currentDuration) {
      return retainNanos(state, currentTime);
    }

    @Override
    public long expireAfterRead(Object key, WindowState state, long currentTime, long currentDuration) {
      return retainNanos(state, currentTime);
    }

    private static long retainNanos(WindowState state, long currentTime) {
      return TimeUnit.MILLISECONDS.toNanos(state.retainFrom(TimeUnit.NANOSECONDS.toMillis(currentTime)));
    }
  }

  @Override
  public Outcome acquire(String user, String endpoint, WindowPlan plan, long cost, long now) {
    return check(user, endpoint, plan, cost, now, true);
  }

  @Override
  public Outcome check(String user, String endpoint, WindowPlan plan, long cost, long now) {
    return check(user, endpoint, plan, cost, now, false);
  }

  /**
   * The one check. A recorded check first tries to claim its cost of the pair's open epoch (see
   * {@link WindowState}), through the front table or after a store lookup, and takes the pair's lock
   * only when that fails.
   */
  private Outcome check(String user, String endpoint, WindowPlan plan, long cost, long now, boolean record) {
    int hash = WindowKey.hash(user, endpoint);
    int slot = frontSlot(hash);
    if (record && frontHashes[slot] == hash) {
      WindowState state = front[slot];
      if (state != null && state.hashCode() == hash && state.matches(user, endpoint)) {
        Outcome claimed = state.tryClaim(plan, cost, now);
        if (claimed != null) {
          long current = claimed.tightestCount();
          if ((current & (current < TOUCH_DENSE_BELOW ? TOUCH_EVERY - 1 : TOUCH_EVERY_LATER - 1)) == 0) {
            windows.getIfPresent(state);
          }
          return claimed;
        }
      }
    }
    WindowKey key = new WindowKey(user, endpoint, hash);
    if (!record) {
      WindowState state = peek(key);
      if (state == null) {
        return WindowMath.emptyPair(plan, cost, false);
      }
      synchronized (state) {
        return evaluate(state.readingAt(now, geometry), plan, cost, now, false);
      }
    }
    while (true) {
      WindowState state = windows.getIfPresent(key);
      if (state == null) {
        state = stateFor(key, plan);
      } else {
        Outcome claimed = state.tryClaim(plan, cost, now);
        if (claimed != null) {
          return claimed;
        }
      }
      boolean extend = false;
      Outcome outcome;
      synchronized (state) {
        if (state.isRetired()) {
          continue;
        }
        state.settle(geometry);
        outcome = evaluate(state, plan, cost, now, true);
        if (outcome.admitted()) {
          if (state.openEpoch(plan, geometry)) {
            frontHashes[slot] = hash;
            front[slot] = state;
          } else {
            state.usePlan(plan);
          }
          int retain = (int) plan.retainMillis();
          if (retain > state.retainMillis) {
            state.retainMillis = retain;
            extend = true;
          }
        }
      }
      if (extend) {
        expiration.setExpiresAfter(state, Duration.ofMillis(state.retainFrom(now)));
      }
      return outcome;
    }
  }

  /**
   * Checks every window of the plan at one instant and, if the cost fits all of them and
   * {@code record}, counts it.
   */
  private Outcome evaluate(WindowState state, WindowPlan plan, long cost, long now, boolean record) {
    long at = state.advance(now, geometry);
    int n = plan.size();
    boolean fits = true;
    for (int i = 0; i < n; i++) {
      long limit = plan.limit(i);
      long count = state.count(plan.type(i));
      fits &= cost <= limit && count <= limit - cost;
    }
    TokenWindows tokens = plan.hasTokenWindows() ? state.tokens() : null;
    if (tokens != null && fits) {
      fits = !tokens.isFull(plan, at);
    }
    if (!fits) {
      long[] counts = new long[plan.checkedSize()];
      long[] waits = new long[plan.checkedSize()];
      for (int j = 0; j < plan.tokenSize(); j++) {
        LimitType type = plan.tokenType(j);
        counts[n + j] = tokens == null ? 0 : tokens.count(type, at);
        waits[n + j] = tokens == null ? Outcome.ROOM : tokens.fullWaitMillis(type, plan.tokenLimit(j), at, now);
      }
      for (int i = 0; i < n; i++) {
        long limit = plan.limit(i);
        long count = state.count(plan.type(i));
        counts[i] = count;
        if (cost > limit) {
          waits[i] = Outcome.NEVER;
        } else if (count <= limit - cost) {
          waits[i] = Outcome.ROOM;
        } else {
          waits[i] = state.millisUntilFreed(plan.type(i), count + cost - limit, now, geometry);
        }
      }
      return Outcome.refused(counts, waits);
    }
    if (record) {
      state.record((int) cost, plan, geometry);
    }
    return admittedOutcome(plan, state, now, geometry);
  }

  /**
   * The admission: the window with the least room (first in plan order on a tie), its count and when it
   * next falls; {@code state} null for a pair that holds nothing. A dry run's own cost is not in the
   * counts (it was not counted).
   */
  private static Outcome admittedOutcome(WindowPlan plan, WindowState state, long now, WindowState.Geometry g) {
    long remaining = Long.MAX_VALUE;
    long current = 0;
    int tightest = -1;
    for (int i = 0; i < plan.size(); i++) {
      long count = state == null ? 0 : state.count(plan.type(i));
      long room = Math.max(0, plan.limit(i) - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        tightest = i;
      }
    }
    long reset = tightest < 0 || state == null ? 0 : state.millisUntilReset(plan.type(tightest), now, g);
    return Outcome.admitted(tightest, current, remaining, reset);
  }

  @Override
  public WindowReading read(String user, String endpoint, WindowPlan plan, long now) {
    WindowState state = peek(new WindowKey(user, endpoint));
    if (state == null) {
      return WindowReading.empty(plan);
    }
    int n = plan.size();
    long[] counts = new long[n];
    long[] resets = new long[n];
    synchronized (state) {
      WindowState at = state.readingAt(now, geometry);
      at.advance(now, geometry);
      for (int i = 0; i < n; i++) {
        LimitType type = plan.type(i);
        counts[i] = at.count(type);
        resets[i] = at.millisUntilReset(type, now, geometry);
      }
    }
    return new WindowReading(counts, resets);
  }

  // ---- token windows ----

  /**
   * Runs {@code step} on the pair's state under its lock, at the pair's time, after closing its open
   * epoch (so that no lock-free claim passes a token window that this step fills), and extends the
   * pair's retention to the plan's.
   */
  private <T> T lockedTokens(String user, String endpoint, WindowPlan plan, long now, TokenStep<T> step) {
    WindowKey key = new WindowKey(user, endpoint);
    while (true) {
      WindowState state = stateFor(key, plan);
      boolean extend = false;
      T result;
      synchronized (state) {
        if (state.isRetired()) {
          continue;
        }
        state.settle(geometry);
        long at = state.advance(now, geometry);
        result = step.apply(state.tokens(geometry), at);
        int retain = (int) plan.retainMillis();
        if (retain > state.retainMillis) {
          state.retainMillis = retain;
          extend = true;
        }
      }
      if (extend) {
        expiration.setExpiresAfter(state, Duration.ofMillis(state.retainFrom(now)));
      }
      return result;
    }
  }

  @FunctionalInterface
  private interface TokenStep<T> {
    T apply(TokenWindows tokens, long at);
  }

  @Override
  public TokenGrant reserveTokens(String user, String endpoint, WindowPlan plan, long tokens, long now) {
    int n = plan.tokenSize();
    boolean fits = true;
    for (int j = 0; j < n; j++) {
      fits &= tokens <= plan.tokenLimit(j);
    }
    if (!fits) { // can never be admitted: count nothing, create nothing
      WindowState state = peek(new WindowKey(user, endpoint));
      if (state == null) {
        return new TokenGrant(refusedTokens(null, plan, tokens, now, now), 0);
      }
      synchronized (state) {
        // Read at the pair's time without moving it: a refusal that could never fit touches nothing.
        long at = Math.max(now, state.latestTime());
        return new TokenGrant(refusedTokens(state.tokens(), plan, tokens, at, now), 0);
      }
    }
    return lockedTokens(user, endpoint, plan, now, (t, at) -> {
      for (int j = 0; j < n; j++) {
        if (!WindowMath.fits(t.count(plan.tokenType(j), at), tokens, plan.tokenLimit(j))) {
          return new TokenGrant(refusedTokens(t, plan, tokens, at, now), 0);
        }
      }
      for (int j = 0; j < n; j++) {
        t.add(plan.tokenType(j), tokens, at);
      }
      return new TokenGrant(tightestTokens(plan, t, at, now), at);
    });
  }

  /** A refused reservation: every token window's count and wait; {@code t} null for a pair that holds none. */
  private static Outcome refusedTokens(TokenWindows t, WindowPlan plan, long tokens, long at, long now) {
    int n = plan.tokenSize();
    long[] counts = new long[n];
    long[] waits = new long[n];
    for (int j = 0; j < n; j++) {
      LimitType type = plan.tokenType(j);
      long limit = plan.tokenLimit(j);
      counts[j] = t == null ? 0 : t.count(type, at);
      waits[j] = t != null ? t.waitMillis(type, limit, tokens, at, now)
          : tokens > limit ? Outcome.NEVER : Outcome.ROOM;
    }
    return Outcome.refused(counts, waits);
  }

  /** The admitted outcome over token windows: the one with the least room, first on a tie. */
  private static Outcome tightestTokens(WindowPlan plan, TokenWindows t, long at, long now) {
    long remaining = Long.MAX_VALUE;
    long current = 0;
    int tightest = -1;
    for (int j = 0; j < plan.tokenSize(); j++) {
      long count = t.count(plan.tokenType(j), at);
      long room = Math.max(0, plan.tokenLimit(j) - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        tightest = j;
      }
    }
    long reset = tightest < 0 ? 0 : t.resetMillis(plan.tokenType(tightest), at, now);
    return Outcome.admitted(tightest, current, remaining, reset);
  }

  @Override
  public void refundTokens(String user, String endpoint, WindowPlan plan, long tokens, long countedAt, long now) {
    if (peek(new WindowKey(user, endpoint)) == null) {
      return; // reset, cleaned up or evicted: nothing of the reservation is counted any more
    }
    lockedTokens(user, endpoint, plan, now, (t, at) -> {
      for (int j = 0; j < plan.tokenSize(); j++) {
        t.refund(plan.tokenType(j), tokens, countedAt, at);
      }
      return null;
    });
  }

  @Override
  public void debitTokens(String user, String endpoint, WindowPlan plan, long tokens, long now) {
    lockedTokens(user, endpoint, plan, now, (t, at) -> {
      for (int j = 0; j < plan.tokenSize(); j++) {
        t.add(plan.tokenType(j), tokens, at);
      }
      return null;
    });
  }

  @Override
  public WindowReading readTokens(String user, String endpoint, WindowPlan plan, long now) {
    int n = plan.tokenSize();
    WindowState state = peek(new WindowKey(user, endpoint));
    if (state == null) {
      return new WindowReading(new long[n], new long[n]);
    }
    long[] counts = new long[n];
    long[] resets = new long[n];
    synchronized (state) {
      // Token windows need no advance (their ring is read at any time): reading moves nothing.
      long at = Math.max(now, state.latestTime());
      TokenWindows t = state.tokens();
      if (t != null) {
        for (int j = 0; j < n; j++) {
          counts[j] = t.count(plan.tokenType(j), at);
          resets[j] = t.resetMillis(plan.tokenType(j), at, now);
        }
      }
    }
    return new WindowReading(counts, resets);
  }

  // ---- concurrency permits ----

  /** The unexpired permits of one pair: ids and lease ends. Used inside the map's compute only. */
  private static final class Permits {
    long[] ids = new long[4];
    long[] ends = new long[4];
    int held;

    void dropExpired(long now) {
      int kept = 0;
      for (int i = 0; i < held; i++) {
        if (ends[i] > now) {
          ids[kept] = ids[i];
          ends[kept] = ends[i];
          kept++;
        }
      }
      held = kept;
    }

    void add(long id, long end) {
      if (held == ids.length) {
        ids = Arrays.copyOf(ids, 2 * held);
        ends = Arrays.copyOf(ends, 2 * held);
      }
      ids[held] = id;
      ends[held] = end;
      held++;
    }

    boolean remove(long id) {
      for (int i = 0; i < held; i++) {
        if (ids[i] == id) {
          held--;
          ids[i] = ids[held];
          ends[i] = ends[held];
          return true;
        }
      }
      return false;
    }
  }

  @Override
  public long acquirePermit(String user, String endpoint, int max, long leaseMillis, long now) {
    long[] granted = {NO_PERMIT};
    permits.compute(new RateLimitKey(user, endpoint), (k, p) -> {
      Permits held = p == null ? new Permits() : p;
      held.dropExpired(now);
      if (held.held < max) {
        granted[0] = nextPermit.getAndIncrement();
        held.add(granted[0], now + leaseMillis);
      }
      return held.held == 0 ? null : held;
    });
    return granted[0];
  }

  @Override
  public boolean releasePermit(String user, String endpoint, long permit, long now) {
    boolean[] released = {false};
    permits.computeIfPresent(new RateLimitKey(user, endpoint), (k, p) -> {
      // An expired permit counts no more: it is not returned twice.
      p.dropExpired(now);
      released[0] = p.remove(permit);
      return p.held == 0 ? null : p;
    });
    return released[0];
  }

  @Override
  public int permitsHeld(String user, String endpoint, long now) {
    int[] held = {0};
    permits.computeIfPresent(new RateLimitKey(user, endpoint), (k, p) -> {
      p.dropExpired(now);
      held[0] = p.held;
      return p.held == 0 ? null : p;
    });
    return held[0];
  }

  @Override
  public List<String> resetUser(String user) {
    Objects.requireNonNull(user, "user must not be null");
    List<String> endpoints = new ArrayList<>();
    for (Cache<Object, WindowState> store : stores) {
      List<WindowState> keys = new ArrayList<>();
      for (Object key : store.asMap().keySet()) {
        if (((WindowState) key).isUser(user)) {
          keys.add((WindowState) key);
        }
      }
      for (WindowState key : keys) {
        if (store.asMap().computeIfPresent(key, (k, state) -> {
          synchronized (state) {
            retire(state);
          }
          return null;
        }) == null) {
          endpoints.add(key.endpoint());
        }
      }
    }
    return endpoints;
  }

  @Override
  public int removeExpired(PlanSource plans, long now) {
    for (RateLimitKey key : new ArrayList<>(permits.keySet())) {
      permits.computeIfPresent(key, (k, p) -> {
        p.dropExpired(now);
        return p.held == 0 ? null : p;
      });
    }
    long expiredBefore = expiredEvictions.get();
    // Pairs past their expiry time are dropped (and counted by the eviction listener) first.
    windows.cleanUp();
    int removed = 0;
    for (Cache<Object, WindowState> store : stores) {
      int[] quiet = {0};
      for (Object key : new ArrayList<>(store.asMap().keySet())) {
        store.asMap().computeIfPresent(key, (k, state) -> {
          synchronized (state) {
            if (!state.isQuiet(now, plans.planFor(state.user(), state.endpoint()), geometry)) {
              return state;
            }
            retire(state);
            quiet[0]++;
            return null;
          }
        });
      }
      removed += quiet[0];
      store.cleanUp();
    }
    return removed + (int) Math.min(Integer.MAX_VALUE, expiredEvictions.get() - expiredBefore);
  }

  @Override
  public List<RateLimitKey> keys(int max) {
    List<RateLimitKey> keys = new ArrayList<>(Math.min(max, 1024));
    for (Cache<Object, WindowState> store : stores) {
      for (Object key : store.asMap().keySet()) {
        if (keys.size() >= max) {
          return Collections.unmodifiableList(keys);
        }
        WindowState state = (WindowState) key;
        keys.add(new RateLimitKey(state.user(), state.endpoint()));
      }
    }
    return Collections.unmodifiableList(keys);
  }

  @Override
  public boolean countsTokens() {
    return true;
  }

  @Override
  public boolean countsPermits() {
    return true;
  }

  @Override
  public long size() {
    return windows.estimatedSize() + parked.estimatedSize() + busy.estimatedSize();
  }

  @Override
  public void cleanUp() {
    for (Cache<Object, WindowState> store : stores) {
      store.cleanUp();
    }
  }
}
