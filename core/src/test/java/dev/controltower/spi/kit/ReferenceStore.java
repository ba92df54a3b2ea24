package dev.controltower.spi.kit;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.TokenGrant;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The oracle: {@link WindowMath}'s rule written as plainly as possible, one big lock, every bucket kept
 * in a sorted map, nothing bounded and nothing fast. Every real store must give its answers, value for
 * value; the contract kit checks that. Token windows are kept like request windows (the same bucket
 * map, keyed by their {@link LimitType}); permits as a map of id to lease end per pair.
 */
public final class ReferenceStore implements WindowStore {
  /** A bucket: its count and its latest admission. */
  private static final class Bucket {
    long count;
    long last;
  }

  private static final class Pair {
    long latest = Long.MIN_VALUE;
    final Map<LimitType, TreeMap<Long, Bucket>> windows = new EnumMap<>(LimitType.class);

    TreeMap<Long, Bucket> window(LimitType type) {
      return windows.computeIfAbsent(type, t -> new TreeMap<>());
    }
  }

  private final Map<RateLimitKey, Pair> pairs = new LinkedHashMap<>();
  /** Per pair, permit id to lease end. */
  private final Map<RateLimitKey, TreeMap<Long, Long>> permits = new LinkedHashMap<>();
  private long nextPermit;

  @Override
  public synchronized Outcome acquire(String user, String endpoint, WindowPlan plan, long cost, long now) {
    Pair pair = pairs.computeIfAbsent(new RateLimitKey(user, endpoint), k -> new Pair());
    pair.latest = Math.max(pair.latest, now);
    prune(pair, pair.latest);
    Outcome outcome = decide(pair, plan, cost, now);
    if (outcome.admitted()) {
      long at = pair.latest;
      for (int i = 0; i < plan.size(); i++) {
        long index = WindowMath.bucketIndex(at, plan.bucketMillis(i));
        Bucket b = pair.window(plan.type(i)).computeIfAbsent(index, x -> new Bucket());
        b.count += cost;
        b.last = Math.max(b.last, at);
      }
      return admitted(pair, plan, now);
    }
    return outcome;
  }

  @Override
  public synchronized Outcome check(String user, String endpoint, WindowPlan plan, long cost, long now) {
    Pair pair = pairs.get(new RateLimitKey(user, endpoint));
    Pair view = pair != null ? pair : new Pair();
    Outcome outcome = decide(view, plan, cost, now);
    return outcome.admitted() ? admitted(view, plan, now) : outcome;
  }

  /** Forgets buckets dead at {@code at}: a dead bucket never counts again (the pair's time only grows). */
  private static void prune(Pair pair, long at) {
    for (Map.Entry<LimitType, TreeMap<Long, Bucket>> e : pair.windows.entrySet()) {
      long w = e.getKey().windowMillis();
      e.getValue().values().removeIf(b -> !WindowMath.isLive(b.last, w, at));
    }
  }

  /**
   * Refused with every window's count and wait (request windows, then token windows checked with cost
   * 0: full refuses), or a placeholder admission.
   */
  private static Outcome decide(Pair pair, WindowPlan plan, long cost, long now) {
    long at = Math.max(now, pair.latest);
    int n = plan.size();
    long[] counts = new long[plan.checkedSize()];
    long[] waits = new long[plan.checkedSize()];
    boolean fits = true;
    for (int i = 0; i < plan.checkedSize(); i++) {
      LimitType type = plan.checkedType(i);
      long[][] b = buckets(pair, type);
      long w = type.windowMillis();
      counts[i] = WindowMath.count(b[0], b[1], b[0].length, w, at);
      waits[i] = i < n
          ? WindowMath.waitMillis(b[0], b[1], b[0].length, w, plan.limit(i), cost, at, now)
          : WindowMath.fullWaitMillis(b[0], b[1], b[0].length, w, plan.checkedLimit(i), at, now);
      fits &= waits[i] == Outcome.ROOM;
    }
    return fits ? Outcome.admitted(-1, 0, 0, 0)
        : Outcome.refused(counts, waits);
  }

  // ---- token windows: the same buckets, in the same map, keyed by the token LimitTypes ----

  private Pair touch(String user, String endpoint, long now) {
    Pair pair = pairs.computeIfAbsent(new RateLimitKey(user, endpoint), k -> new Pair());
    pair.latest = Math.max(pair.latest, now);
    prune(pair, pair.latest);
    return pair;
  }

  private static void add(Pair pair, LimitType type, long bucketMillis, long n, long at) {
    Bucket b = pair.window(type).computeIfAbsent(WindowMath.bucketIndex(at, bucketMillis), x -> new Bucket());
    b.count += n;
    b.last = Math.max(b.last, at);
  }

  @Override
  public synchronized TokenGrant reserveTokens(String user, String endpoint, WindowPlan plan, long tokens,
      long now) {
    boolean everFits = true;
    for (int j = 0; j < plan.tokenSize(); j++) {
      everFits &= tokens <= plan.tokenLimit(j);
    }
    // A reservation that may fit stands the pair at now, as a request does; one that never fits
    // touches nothing.
    Pair existing = pairs.get(new RateLimitKey(user, endpoint));
    Pair view = everFits ? touch(user, endpoint, now) : existing != null ? existing : new Pair();
    long at = Math.max(now, view.latest);
    int n = plan.tokenSize();
    long[] counts = new long[n];
    long[] waits = new long[n];
    boolean fits = true;
    for (int j = 0; j < n; j++) {
      long[][] b = buckets(view, plan.tokenType(j));
      long w = plan.tokenWindowMillis(j);
      counts[j] = WindowMath.count(b[0], b[1], b[0].length, w, at);
      waits[j] = WindowMath.waitMillis(b[0], b[1], b[0].length, w, plan.tokenLimit(j), tokens, at, now);
      fits &= waits[j] == Outcome.ROOM;
    }
    if (!fits) {
      return new TokenGrant(Outcome.refused(counts, waits), 0);
    }
    Pair pair = view;
    for (int j = 0; j < n; j++) {
      add(pair, plan.tokenType(j), plan.tokenBucketMillis(j), tokens, at);
    }
    return new TokenGrant(admittedTokens(pair, plan, now), at);
  }

  private static Outcome admittedTokens(Pair pair, WindowPlan plan, long now) {
    long at = Math.max(now, pair.latest);
    long remaining = Long.MAX_VALUE;
    long current = 0;
    int tightest = -1;
    for (int j = 0; j < plan.tokenSize(); j++) {
      long[][] b = buckets(pair, plan.tokenType(j));
      long count = WindowMath.count(b[0], b[1], b[0].length, plan.tokenWindowMillis(j), at);
      long room = Math.max(0, plan.tokenLimit(j) - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        tightest = j;
      }
    }
    long reset = 0;
    if (tightest >= 0) {
      long[][] b = buckets(pair, plan.tokenType(tightest));
      reset = WindowMath.resetMillis(b[0], b[1], b[0].length, plan.tokenWindowMillis(tightest), at, now);
    }
    return Outcome.admitted(tightest, current, remaining, reset);
  }

  @Override
  public synchronized void refundTokens(String user, String endpoint, WindowPlan plan, long tokens, long countedAt,
      long now) {
    if (!pairs.containsKey(new RateLimitKey(user, endpoint))) {
      return;
    }
    Pair pair = touch(user, endpoint, now);
    for (int j = 0; j < plan.tokenSize(); j++) {
      TreeMap<Long, Bucket> window = pair.window(plan.tokenType(j));
      Bucket b = window.get(WindowMath.bucketIndex(countedAt, plan.tokenBucketMillis(j)));
      if (b != null && WindowMath.isLive(b.last, plan.tokenWindowMillis(j), pair.latest)) {
        b.count = Math.max(0, b.count - tokens);
      }
    }
  }

  @Override
  public synchronized void debitTokens(String user, String endpoint, WindowPlan plan, long tokens, long now) {
    Pair pair = touch(user, endpoint, now);
    for (int j = 0; j < plan.tokenSize(); j++) {
      add(pair, plan.tokenType(j), plan.tokenBucketMillis(j), tokens, pair.latest);
    }
  }

  @Override
  public synchronized WindowReading readTokens(String user, String endpoint, WindowPlan plan, long now) {
    Pair pair = pairs.get(new RateLimitKey(user, endpoint));
    int n = plan.tokenSize();
    long[] counts = new long[n];
    long[] resets = new long[n];
    if (pair != null) {
      long at = Math.max(now, pair.latest);
      for (int j = 0; j < n; j++) {
        long[][] b = buckets(pair, plan.tokenType(j));
        counts[j] = WindowMath.count(b[0], b[1], b[0].length, plan.tokenWindowMillis(j), at);
        resets[j] = WindowMath.resetMillis(b[0], b[1], b[0].length, plan.tokenWindowMillis(j), at, now);
      }
    }
    return new WindowReading(counts, resets);
  }

  // ---- permits ----

  private TreeMap<Long, Long> live(String user, String endpoint, long now) {
    TreeMap<Long, Long> held = permits.computeIfAbsent(new RateLimitKey(user, endpoint), k -> new TreeMap<>());
    held.values().removeIf(end -> end <= now);
    return held;
  }

  @Override
  public synchronized long acquirePermit(String user, String endpoint, int max, long leaseMillis, long now) {
    TreeMap<Long, Long> held = live(user, endpoint, now);
    if (held.size() >= max) {
      return NO_PERMIT;
    }
    long id = nextPermit++;
    held.put(id, now + leaseMillis);
    return id;
  }

  @Override
  public synchronized boolean releasePermit(String user, String endpoint, long permit, long now) {
    return live(user, endpoint, now).remove(permit) != null;
  }

  @Override
  public synchronized int permitsHeld(String user, String endpoint, long now) {
    return live(user, endpoint, now).size();
  }

  private static Outcome admitted(Pair pair, WindowPlan plan, long now) {
    long at = Math.max(now, pair.latest);
    long remaining = Long.MAX_VALUE;
    long current = 0;
    int tightest = -1;
    for (int i = 0; i < plan.size(); i++) {
      long[][] b = buckets(pair, plan.type(i));
      long count = WindowMath.count(b[0], b[1], b[0].length, plan.windowMillis(i), at);
      long room = Math.max(0, plan.limit(i) - count);
      if (room < remaining) {
        remaining = room;
        current = count;
        tightest = i;
      }
    }
    long reset = 0;
    if (tightest >= 0) {
      long[][] b = buckets(pair, plan.type(tightest));
      reset = WindowMath.resetMillis(b[0], b[1], b[0].length, plan.windowMillis(tightest), at, now);
    }
    return Outcome.admitted(tightest, current, remaining, reset);
  }

  /** The window's buckets oldest first: {counts, lasts}. */
  private static long[][] buckets(Pair pair, LimitType type) {
    TreeMap<Long, Bucket> window = pair.windows.get(type);
    if (window == null) {
      return new long[][] {new long[0], new long[0]};
    }
    long[] counts = new long[window.size()];
    long[] lasts = new long[window.size()];
    int i = 0;
    for (Bucket b : window.values()) {
      counts[i] = b.count;
      lasts[i] = b.last;
      i++;
    }
    return new long[][] {counts, lasts};
  }

  @Override
  public synchronized WindowReading read(String user, String endpoint, WindowPlan plan, long now) {
    Pair pair = pairs.get(new RateLimitKey(user, endpoint));
    if (pair == null) {
      return WindowReading.empty(plan);
    }
    long at = Math.max(now, pair.latest);
    long[] counts = new long[plan.size()];
    long[] resets = new long[plan.size()];
    for (int i = 0; i < plan.size(); i++) {
      long[][] b = buckets(pair, plan.type(i));
      counts[i] = WindowMath.count(b[0], b[1], b[0].length, plan.windowMillis(i), at);
      resets[i] = WindowMath.resetMillis(b[0], b[1], b[0].length, plan.windowMillis(i), at, now);
    }
    return new WindowReading(counts, resets);
  }

  @Override
  public synchronized List<String> resetUser(String user) {
    List<String> endpoints = new ArrayList<>();
    for (Iterator<RateLimitKey> it = pairs.keySet().iterator(); it.hasNext(); ) {
      RateLimitKey key = it.next();
      if (key.userId().equals(user)) {
        endpoints.add(key.endpoint());
        it.remove();
      }
    }
    return endpoints;
  }

  @Override
  public synchronized int removeExpired(PlanSource plans, long now) {
    for (Iterator<TreeMap<Long, Long>> it = permits.values().iterator(); it.hasNext(); ) {
      TreeMap<Long, Long> held = it.next();
      held.values().removeIf(end -> end <= now);
      if (held.isEmpty()) {
        it.remove();
      }
    }
    int removed = 0;
    for (Iterator<Map.Entry<RateLimitKey, Pair>> it = pairs.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<RateLimitKey, Pair> e = it.next();
      WindowPlan plan = plans.planFor(e.getKey().userId(), e.getKey().endpoint());
      long at = Math.max(now, e.getValue().latest);
      boolean quiet = true;
      for (int i = 0; i < plan.checkedSize(); i++) {
        LimitType type = plan.checkedType(i);
        long[][] b = buckets(e.getValue(), type);
        quiet &= WindowMath.count(b[0], b[1], b[0].length, type.windowMillis(), at) == 0;
      }
      if (quiet) {
        it.remove();
        removed++;
      }
    }
    return removed;
  }

  @Override
  public synchronized List<RateLimitKey> keys(int max) {
    List<RateLimitKey> keys = new ArrayList<>();
    for (RateLimitKey key : pairs.keySet()) {
      if (keys.size() >= max) {
        break;
      }
      keys.add(key);
    }
    return keys;
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
  public synchronized long size() {
    return pairs.size();
  }
}
