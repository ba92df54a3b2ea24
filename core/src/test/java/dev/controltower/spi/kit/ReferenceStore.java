package dev.controltower.spi.kit;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.spi.Outcome;
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
 * value; the contract kit checks that.
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

  /** Refused with every window's count and wait, or a placeholder admission. */
  private static Outcome decide(Pair pair, WindowPlan plan, long cost, long now) {
    long at = Math.max(now, pair.latest);
    int n = plan.size();
    long[] counts = new long[n];
    long[] waits = new long[n];
    boolean fits = true;
    for (int i = 0; i < n; i++) {
      long[][] b = buckets(pair, plan.type(i));
      counts[i] = WindowMath.count(b[0], b[1], b[0].length, plan.windowMillis(i), at);
      waits[i] = WindowMath.waitMillis(b[0], b[1], b[0].length, plan.windowMillis(i), plan.limit(i), cost, at, now);
      fits &= waits[i] == Outcome.ROOM;
    }
    return fits ? Outcome.admitted(-1, 0, 0, 0) : Outcome.refused(counts, waits);
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
    int removed = 0;
    for (Iterator<Map.Entry<RateLimitKey, Pair>> it = pairs.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<RateLimitKey, Pair> e = it.next();
      WindowPlan plan = plans.planFor(e.getKey().userId(), e.getKey().endpoint());
      long at = Math.max(now, e.getValue().latest);
      boolean quiet = true;
      for (int i = 0; i < plan.size(); i++) {
        long[][] b = buckets(e.getValue(), plan.type(i));
        quiet &= WindowMath.count(b[0], b[1], b[0].length, plan.windowMillis(i), at) == 0;
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
  public synchronized long size() {
    return pairs.size();
  }
}
