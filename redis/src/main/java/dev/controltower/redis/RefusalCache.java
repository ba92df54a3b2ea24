package dev.controltower.redis;

import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pairs that Redis has just refused, kept until the refusal's wait has passed (as Envoy's over-limit
 * cache), so that a client hammering while limited costs no round trip.
 *
 * <p>Why it never admits what Redis would refuse: it only ever answers "refused", and only for the same
 * plan and the same cost, before the latest time at which some refusing window still lacks room.
 * Without admissions a window's count only falls, and it falls by the amount the cost needs exactly at
 * that window's wait (WindowMath's walk); admissions by other instances only make it fall later. So
 * until {@code at + max(wait)} some window still refuses. {@code at} is taken before the step was sent
 * (in production the local monotonic clock; Redis evaluated the step no earlier), so the cache never
 * holds a refusal longer than Redis would give it. Refusals that can never fit (cost above a limit)
 * are not kept: they are rare and need no counts.
 *
 * <p>A hit returns the refusal with every wait shortened by the time passed (a window whose wait has
 * passed is reported as having room) and the counts as Redis reported them. Bounded: when full, expired
 * entries are swept, and if that frees nothing, new refusals are not kept.
 */
final class RefusalCache {
  private record Key(String user, String endpoint) {}

  private record Entry(WindowPlan plan, long cost, long at, long until, Outcome outcome) {}

  private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
  private final int capacity;

  RefusalCache(int capacity) {
    this.capacity = capacity;
  }

  /** A refusal still valid at {@code now}, or null. */
  Outcome get(String user, String endpoint, WindowPlan plan, long cost, long now) {
    if (entries.isEmpty()) {
      return null;
    }
    Key key = new Key(user, endpoint);
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (now >= e.until || now < e.at) {
      entries.remove(key, e);
      return null;
    }
    if (e.cost != cost || !e.plan.equals(plan)) {
      return null;
    }
    long passed = now - e.at;
    Outcome o = e.outcome;
    int n = o.windows();
    long[] counts = new long[n];
    long[] waits = new long[n];
    for (int i = 0; i < n; i++) {
      counts[i] = o.count(i);
      long wait = o.waitMillis(i);
      waits[i] = wait == Outcome.ROOM || wait - passed <= 0 ? Outcome.ROOM : wait - passed;
    }
    return Outcome.refused(counts, waits);
  }

  /** Keeps a refusal that Redis gave for a step sent at {@code at}. */
  void put(String user, String endpoint, WindowPlan plan, long cost, long at, Outcome refused) {
    long longest = 0;
    for (int i = 0; i < refused.windows(); i++) {
      long wait = refused.waitMillis(i);
      if (wait == Outcome.NEVER) {
        return;
      }
      longest = Math.max(longest, wait);
    }
    if (longest <= 0) {
      return;
    }
    if (entries.size() >= capacity) {
      entries.values().removeIf(e -> at >= e.until || at < e.at);
      if (entries.size() >= capacity) {
        return;
      }
    }
    entries.put(new Key(user, endpoint), new Entry(plan, cost, at, at + longest, refused));
  }

  /** Forgets every refusal of {@code user} (after a reset). */
  void forgetUser(String user) {
    entries.keySet().removeIf(k -> k.user.equals(user));
  }

  int size() {
    return entries.size();
  }
}
