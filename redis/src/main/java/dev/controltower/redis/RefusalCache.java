package dev.controltower.redis;

import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pairs that Redis has just refused, kept for a while (as Envoy's over-limit cache), so that a client
 * hammering while limited costs no round trip.
 *
 * <p>How long: the script also reports when the first count of the plan next changes (its oldest live
 * bucket dies). Until then, without admissions, every count stays as it is and every wait shrinks by
 * exactly the time passed, so the cache gives exactly the answer Redis would give, for the same plan
 * and the same cost. Admissions by other instances only raise counts, so the refusal still stands (the
 * counts and waits it reports may then be lower than Redis's). An admission of the pair through this
 * store forgets the entry. {@code at} is the step's time: the caller's {@code now} under a test clock;
 * in production the local monotonic clock read before the step was sent (Redis evaluated it no
 * earlier), so an entry never outlives the refusal Redis gave. The cache only ever answers "refused".
 *
 * <p>Bounded: when full, expired entries are swept, and if that frees nothing, new refusals are not
 * kept.
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
      waits[i] = wait == Outcome.ROOM || wait == Outcome.NEVER ? wait : Math.max(0, wait - passed);
    }
    return Outcome.refused(counts, waits);
  }

  /**
   * Keeps a refusal that Redis gave for a step at {@code at}, whose counts stand for
   * {@code stableMillis} (negative: do not keep).
   */
  void put(String user, String endpoint, WindowPlan plan, long cost, long at, Outcome refused, long stableMillis) {
    if (stableMillis <= 0) {
      return;
    }
    if (entries.size() >= capacity) {
      entries.values().removeIf(e -> at >= e.until || at < e.at);
      if (entries.size() >= capacity) {
        return;
      }
    }
    entries.put(new Key(user, endpoint), new Entry(plan, cost, at, at + stableMillis, refused));
  }

  /** Forgets the pair (it was admitted: its counts moved). */
  void forget(String user, String endpoint) {
    if (!entries.isEmpty()) {
      entries.remove(new Key(user, endpoint));
    }
  }

  /** Forgets every refusal of {@code user} (after a reset). */
  void forgetUser(String user) {
    entries.keySet().removeIf(k -> k.user.equals(user));
  }

  int size() {
    return entries.size();
  }
}
