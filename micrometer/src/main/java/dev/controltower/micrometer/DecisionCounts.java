package dev.controltower.micrometer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Exact counters for the one event that comes with every request (a limiter decision), counted
 * without an atomic instruction: each thread adds to cells of its own, and a read sums them.
 *
 * <p>Why not a Micrometer {@code Counter}: its increment is a compare-and-swap on a shared adder, which
 * on the hot-key benchmark (a decision of about 45 ns) cost about 28% with the lookup around it
 * (measured in CPU time per call, 2026-12-01). Here an increment is a thread-local lookup, an array
 * index and a plain (opaque) store, and the meters that Micrometer sees are {@code FunctionCounter}s
 * reading {@link #sum}.
 *
 * <p><b>Finding a thread's cells.</b> One static {@link ThreadLocal} holds, per thread, the cells of
 * the instance that thread counted for last. Static, because the lookup of a static thread-local hashes
 * a constant; a per-instance one cost about 3 ns more per call on the hot-key benchmark (BENCHMARKS.md,
 * 2026-12-02). Its value is a JDK {@link WeakReference}, never an object of this library: a container
 * thread's thread-local map then pins neither these counters nor the web application's class loader
 * after an undeploy. The cells themselves are held strongly by their instance ({@code byThread}), so
 * the reference is never cleared while they count. A thread that counts for a second instance finds
 * its cells there (a map lookup), and re-points the thread-local.
 *
 * <p>Counters are indexed {@code series = endpointId * SLOTS + slot}. Only the owning thread writes a
 * cell array (growing it by copy and republishing), so increments are never lost; a read sums every
 * live thread's cells plus what finished threads left behind, which a read (or a new thread's first
 * count) folds into {@code retired} once their thread is dead (its writes are then visible: a thread's termination
 * happens-before {@link Thread#isAlive()} returning false). Reads, folds and registrations hold one
 * lock, so a read is monotonic; increments never take it.
 */
final class DecisionCounts {
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  /** Per thread: the cells of the instance it counted for last (see the class comment). */
  private static final ThreadLocal<WeakReference<Cells>> LAST = new ThreadLocal<>();

  /**
   * A thread's cells of one instance, and its one-entry cache of the endpoint it last counted: that
   * endpoint's first series, its meters, and which of its slots this thread has seen registered (bit
   * {@code slot}).
   */
  static final class Cells {
    final DecisionCounts counts;
    final Thread owner;
    final WeakReference<Cells> self = new WeakReference<>(this);
    volatile long[] cells;
    String lastEndpoint;
    Object lastMeters;
    int lastBase;
    int lastKnown;

    Cells(DecisionCounts counts, Thread owner, int size) {
      this.counts = counts;
      this.owner = owner;
      this.cells = new long[size];
    }
  }

  private final int capacity;
  private final int initialSize;
  /**
   * Every thread's cells not yet folded. Changed only holding the lock (so a read sees one state);
   * a thread's own lookup reads it without.
   */
  private final Map<Thread, Cells> byThread = new ConcurrentHashMap<>();
  private final long[] retired; // guarded by this
  /** Whether a thread can still count: {@link Thread#isAlive()}, or a test's hook around it. */
  private final Predicate<Thread> alive;

  /** @param capacity how many series there can be at most */
  DecisionCounts(int capacity) {
    this(capacity, Thread::isAlive);
  }

  /** For tests: {@code alive} stands for {@link Thread#isAlive()} (a reader's view of a thread's end). */
  DecisionCounts(int capacity, Predicate<Thread> alive) {
    this.alive = alive;
    this.capacity = capacity;
    this.retired = new long[capacity];
    this.initialSize = Math.min(capacity, 64);
  }

  /** The calling thread's cells. */
  Cells cells() {
    WeakReference<Cells> last = LAST.get();
    Cells c = last == null ? null : last.get();
    if (c != null && c.counts == this) {
      return c;
    }
    return cellsOfThisThread();
  }

  private Cells cellsOfThisThread() {
    Thread t = Thread.currentThread();
    Cells c = byThread.get(t);
    if (c == null) {
      c = register(t);
    }
    LAST.set(c.self);
    return c;
  }

  private synchronized Cells register(Thread t) {
    // Also here, not only at a read: with short-lived threads and no scrape, the cells kept stay
    // about as many as the threads alive.
    foldEnded();
    Cells c = new Cells(this, t, initialSize);
    byThread.put(t, c);
    return c;
  }

  /** Adds one to {@code series} in {@code cells}, which must be the calling thread's. */
  void increment(Cells cells, int series) {
    long[] a = cells.cells;
    if (series >= a.length) {
      a = grow(cells, series);
    }
    // Only this thread writes the element, so a plain read of it is current; the opaque store keeps
    // a reader from seeing a torn value.
    LONGS.setOpaque(a, series, a[series] + 1);
  }

  private long[] grow(Cells cells, int series) {
    long[] old = cells.cells;
    long[] bigger = new long[Math.min(capacity, Math.max(series + 1, old.length * 2))];
    System.arraycopy(old, 0, bigger, 0, old.length);
    cells.cells = bigger; // readers that still hold the old array read a value that is not ahead
    return bigger;
  }

  /** The count of {@code series}: every thread's, finished ones included. */
  synchronized long sum(int series) {
    foldEnded();
    long total = retired[series];
    for (Cells c : byThread.values()) {
      long[] a = c.cells;
      if (series < a.length) {
        total += (long) LONGS.getOpaque(a, series);
      }
    }
    return total;
  }

  /** Moves the counts of every thread that has ended into {@code retired}. Called holding the lock. */
  private void foldEnded() {
    for (Iterator<Cells> it = byThread.values().iterator(); it.hasNext();) {
      Cells c = it.next();
      if (!alive.test(c.owner)) {
        // Read after the thread is seen dead: an array read before may predate a last grow, and the
        // counts the thread added after it are only in the array it published then.
        long[] a = c.cells;
        for (int i = 0; i < a.length; i++) {
          retired[i] += a[i];
        }
        it.remove();
      }
    }
  }

  /** How many threads' cells are kept: threads alive that counted, and ended ones not yet folded. */
  synchronized int cellsKept() {
    return byThread.size();
  }
}
