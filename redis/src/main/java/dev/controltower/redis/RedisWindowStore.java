package dev.controltower.redis;

import dev.controltower.resources.RateLimitKey;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.StoreUnavailableException;
import dev.controltower.spi.TokenGrant;
import dev.controltower.spi.WindowMath;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.WindowReading;
import dev.controltower.spi.WindowStore;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link WindowStore} in Redis: every instance of a service that points at the same Redis counts
 * into the same windows, so a user gets the limit once, not once per instance. Results are the
 * in-memory store's, value for value ({@link dev.controltower.spi.WindowMath}'s rule).
 *
 * <p><b>One round trip per check.</b> A Lua script, loaded once ({@code SCRIPT LOAD}) and called with
 * {@code EVALSHA} (loaded again after {@code NOSCRIPT}, as after a Redis restart), reads the pair,
 * decides for every window and records the admission in one atomic step, with Redis's own clock
 * ({@code TIME}), so that the instances' clocks cannot disagree. The {@code nowMillis} arguments of
 * the SPI are therefore ignored, except under {@link Builder#clockForTests}.
 *
 * <p><b>Keys.</b> One hash per pair, {@code <prefix>p:{<user tag>}<pair id>}, and one set per user
 * listing its pairs (for {@link #resetUser}), {@code <prefix>u:{<user tag>}}; the hash tag keeps a
 * user's keys in one Redis Cluster slot. Tag and id are hashes of the names, which are stored in the
 * hash and checked by the script, so no name (CRLF, 64 KB, lone surrogates) can break a key or merge
 * two pairs. Every key expires one retention ({@link WindowPlan#retainMillis()}) after the pair's
 * latest admission, so Redis holds only active pairs. {@link #keys} and {@link #size} scan the keys
 * (SCAN on the one node this store talks to).
 *
 * <p><b>Token windows and permits.</b> Token windows are windows of the pair's hash like the request
 * windows (fields {@code M}, {@code H}, {@code D}); reservations, refunds, debits and token reads are
 * steps of the same script, and an acquire refuses while a token window is full in the same
 * {@code EVALSHA}. Concurrency permits are leases: a sorted set per pair,
 * {@code <prefix>c:{<user tag>}<pair id>}, member = a random permit id, score = its lease end on the
 * script's clock; expired members stop counting and the key expires with its longest lease, so a
 * crashed instance cannot hold a user's slots for longer than the request's timeout.
 *
 * <p><b>Refused pairs are cached locally</b> until their wait has passed (see {@code RefusalCache}): a
 * client hammering while limited costs no round trip, and the cache never admits. Plans with token
 * windows are not cached: a refund, here or on another instance, can end a refusal by a full token
 * window before any bucket dies, and a cached refusal would then refuse what Redis admits.
 *
 * <p><b>Faults.</b> Every call has a timeout ({@link Builder#timeout}, default 50 ms). A circuit
 * breaker stops calling a Redis that failed {@link Builder#circuitBreaker} times in a row and lets one
 * probe through after a delay; while Redis is not answering, the {@link FailMode} decides. Every such
 * decision is counted ({@link #counters()}); the breaker's opening and closing are logged once each,
 * never a request. Token and permit calls follow the fail mode too (local: the in-process store;
 * open: granted, counting nothing; closed: {@link StoreUnavailableException}), except
 * {@link #releasePermit}, which never throws: a permit not returned ends with its lease. Recovery is automatic: Lettuce reconnects, a probe closes the breaker, and the
 * script is loaded again if Redis lost it.
 *
 * <p><b>Threads.</b> One shared connection, asynchronous and pipelined: a caller sends its command and
 * waits for its own reply only, up to the timeout; no connection or thread per request. Thread-safe.
 * {@link #close()} closes the connection and the client's threads.
 */
public final class RedisWindowStore implements WindowStore {
  private static final Logger LOG = LoggerFactory.getLogger(RedisWindowStore.class);
  private static final byte[] SCRIPT = loadScript();
  private static final String SHA = sha1Hex(SCRIPT);
  private static final byte[] ACQUIRE = {'a'};
  private static final byte[] CHECK = {'c'};
  private static final byte[] READ = {'r'};
  private static final byte[] QUIET = {'q'};
  private static final byte[] RESET = {'x'};
  private static final byte[] RESERVE = {'R'};
  private static final byte[] REFUND = {'F'};
  private static final byte[] DEBIT = {'D'};
  private static final byte[] READ_TOKENS = {'T'};
  private static final byte[] ACQUIRE_PERMIT = {'P'};
  private static final byte[] RELEASE_PERMIT = {'V'};
  private static final byte[] PERMITS_HELD = {'H'};
  private static final byte[] ZERO = {'0'};
  private static final byte[] REDIS_TIME = {};
  /** The hash field of each window type, by ordinal: request windows, then token windows. */
  private static final byte[][] TYPE_FIELDS = {{'b'}, {'m'}, {'h'}, {'d'}, {'M'}, {'H'}, {'D'}};
  /** The permit id an open-mode grant returns: no random id is it, so releasing it frees nothing. */
  private static final long OPEN_PERMIT = Long.MAX_VALUE;
  /**
   * The countedAt of an open-mode reservation, which counted nothing anywhere: its bucket is in no
   * window, so that a refund of it takes back nothing counted by others.
   */
  private static final long COUNTED_NOWHERE = Long.MIN_VALUE / 2;
  private static final byte[] USER_FIELD = {'u'};
  private static final byte[] ENDPOINT_FIELD = {'e'};
  private static final int SCAN_BATCH = 500;

  private final RedisURI uri;
  private final ClientResources resources;
  private final RedisClient client;
  /** The store events' listener; {@link ControlTowerListener#NOOP} when none. */
  private final ControlTowerListener listener;
  private final long timeoutNanos;
  private final long maintenanceTimeoutNanos;
  private final FailMode failMode;
  private final boolean callerTime;
  private final InstantSource localClock;
  private final int localMaximumKeys;
  private final PairKeys keys;
  private final CircuitBreaker breaker;
  private final RefusalCache refusals;
  /**
   * Counts the user resets done through this store. A refusal is kept only if no reset ended while its
   * step was in flight: Redis may have evaluated the step before the reset, and the refusal must not
   * outlive the counts it was made of.
   */
  private final AtomicLong resets = new AtomicLong();
  private final Object connecting = new Object();
  private volatile StatefulRedisConnection<byte[], byte[]> connection;
  /** A connection attempt under way, or null. */
  private CompletableFuture<StatefulRedisConnection<byte[], byte[]>> pending;
  private volatile WindowStore local;
  /** The bucket count of {@link #local}. */
  private volatile int localBuckets;
  private volatile boolean closed;

  private final LongAdder failures = new LongAdder();
  private final LongAdder breakerOpens = new LongAdder();
  private final LongAdder localDecisions = new LongAdder();
  private final LongAdder openAdmits = new LongAdder();
  private final LongAdder closedRefusals = new LongAdder();
  private final LongAdder cachedRefusals = new LongAdder();

  /**
   * How often this store could not use Redis and what it did instead; a snapshot.
   *
   * @param failures calls that failed or timed out
   * @param breakerOpens how often the circuit breaker opened
   * @param localDecisions calls answered by the in-process store ({@link FailMode#LOCAL})
   * @param openAdmits calls admitted without a store ({@link FailMode#OPEN})
   * @param closedRefusals calls refused as unavailable ({@link FailMode#CLOSED})
   * @param cachedRefusals refusals answered from the local refused-pair cache, without Redis
   */
  public record Counters(long failures, long breakerOpens, long localDecisions, long openAdmits,
      long closedRefusals, long cachedRefusals) {}

  private RedisWindowStore(Builder b) {
    this.listener = b.listener == null ? ControlTowerListener.NOOP : ControlTowerListener.guarded(b.listener);
    this.uri = b.uri;
    this.timeoutNanos = b.timeout.toNanos();
    this.maintenanceTimeoutNanos = Math.max(timeoutNanos, TimeUnit.SECONDS.toNanos(2));
    this.failMode = b.failMode;
    this.callerTime = b.clock != null;
    this.localClock = b.clock != null ? b.clock : InstantSource.system();
    this.localMaximumKeys = b.localMaximumKeys;
    this.keys = new PairKeys(b.keyPrefix);
    this.breaker = new CircuitBreaker(b.breakerFailures, b.breakerProbeAfter.toNanos(), System::nanoTime);
    this.refusals = b.refusalCacheSize > 0 ? new RefusalCache(b.refusalCacheSize) : null;
    this.resources = DefaultClientResources.builder()
        .ioThreadPoolSize(2)
        .computationThreadPoolSize(2)
        .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofMillis(500), 2, TimeUnit.MILLISECONDS))
        .build();
    this.client = RedisClient.create(resources);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .requestQueueSize(b.requestQueueSize)
        .socketOptions(SocketOptions.builder().connectTimeout(b.connectTimeout).keepAlive(true).build())
        .build());
    if (failMode == FailMode.LOCAL) {
      // Made now, and used once, so that the first fallback does not pay for class loading while
      // Redis is failing (it measured 65 ms on two busy cores, past the timeout).
      WindowStore store = WindowStore.inMemory(localClock, localMaximumKeys, b.bucketCount);
      WindowPlan warm = WindowPlan.of(dev.controltower.resources.RateLimitConfig.defaults(), b.bucketCount);
      store.acquire("", "", warm, 1, localClock.millis());
      store.check("", "", warm, 1, localClock.millis());
      store.read("", "", warm, localClock.millis());
      store.resetUser("");
      localBuckets = b.bucketCount;
      local = store;
    }
    // Wait for the first connection (a store that starts while Redis is down starts in its fail mode).
    CompletableFuture<StatefulRedisConnection<byte[], byte[]>> first = connectAsync();
    try {
      first.get(b.connectTimeout.toMillis() + 100, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("Redis at {} not reachable at startup ({}); fail mode {} until it is", describe(uri),
          rootMessage(e), failMode.wireName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A builder; {@link Builder#uri} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ---- the SPI ----

  @Override
  public Outcome acquire(String user, String endpoint, WindowPlan plan, long cost, long nowMillis) {
    return decide(ACQUIRE, user, endpoint, plan, cost, nowMillis);
  }

  @Override
  public Outcome check(String user, String endpoint, WindowPlan plan, long cost, long nowMillis) {
    return decide(CHECK, user, endpoint, plan, cost, nowMillis);
  }

  private Outcome decide(byte[] op, String user, String endpoint, WindowPlan plan, long cost, long nowMillis) {
    long at = cacheTime(nowMillis);
    // A refusal by a full token window can end early (a refund, here or on another instance), which a
    // cached refusal would not see: such plans are not cached (see the class comment).
    RefusalCache refusals = plan.hasTokenWindows() ? null : this.refusals;
    if (refusals != null) {
      Outcome cached = refusals.get(user, endpoint, plan, cost, at);
      if (cached != null) {
        cachedRefusals.increment();
        return cached;
      }
    }
    long resetsBefore = resets.get();
    List<Object> reply;
    try {
      reply = step(op, user, endpoint, plan, cost, 0, nowMillis);
    } catch (Unavailable e) {
      return fallback(e, op, user, endpoint, plan, cost, nowMillis);
    }
    Outcome outcome = outcome(reply, plan.checkedSize());
    if (refusals != null) {
      if (outcome.admitted()) {
        refusals.forget(user, endpoint);
      } else if (resets.get() == resetsBefore) {
        refusals.put(user, endpoint, plan, cost, at, outcome, (Long) reply.get(1 + 2 * plan.checkedSize()));
        if (resets.get() != resetsBefore) {
          // A reset ended between the test and the put, and may have cleared the cache before it.
          refusals.forget(user, endpoint);
        }
      }
    }
    return outcome;
  }

  @Override
  public WindowReading read(String user, String endpoint, WindowPlan plan, long nowMillis) {
    List<Object> reply;
    try {
      reply = step(READ, user, endpoint, plan, 1, 0, nowMillis);
    } catch (Unavailable e) {
      return switch (decision(e)) {
        case LOCAL -> local(plan.bucketCount()).read(user, endpoint, plan, nowMillis);
        case OPEN -> WindowReading.empty(plan);
        case CLOSED -> throw unavailable(e);
      };
    }
    int n = plan.size();
    long[] counts = new long[n];
    long[] resets = new long[n];
    for (int i = 0; i < n; i++) {
      counts[i] = (Long) reply.get(1 + i);
      resets[i] = (Long) reply.get(1 + n + i);
    }
    return new WindowReading(counts, resets);
  }

  // ---- token windows ----

  @Override
  public TokenGrant reserveTokens(String user, String endpoint, WindowPlan plan, long tokens, long nowMillis) {
    List<Object> reply;
    try {
      reply = step(RESERVE, user, endpoint, plan, tokens, 0, nowMillis);
    } catch (Unavailable e) {
      return switch (decision(e)) {
        case LOCAL -> local(plan.bucketCount()).reserveTokens(user, endpoint, plan, tokens, nowMillis);
        case OPEN -> new TokenGrant(openTokens(plan), COUNTED_NOWHERE);
        case CLOSED -> throw unavailable(e);
      };
    }
    Outcome outcome = outcome(reply, plan.tokenSize());
    return new TokenGrant(outcome, outcome.admitted() ? (Long) reply.get(5) : 0);
  }

  /** An open-mode reservation: admitted, counting nothing, the token window of the least limit named. */
  private static Outcome openTokens(WindowPlan plan) {
    int tightest = -1;
    long remaining = Long.MAX_VALUE;
    for (int j = 0; j < plan.tokenSize(); j++) {
      if (plan.tokenLimit(j) < remaining) {
        remaining = plan.tokenLimit(j);
        tightest = j;
      }
    }
    return Outcome.admitted(tightest, 0, remaining, 0);
  }

  @Override
  public void refundTokens(String user, String endpoint, WindowPlan plan, long tokens, long countedAt,
      long nowMillis) {
    tokenWrite(REFUND, user, endpoint, plan, tokens, countedAt, nowMillis);
  }

  @Override
  public void debitTokens(String user, String endpoint, WindowPlan plan, long tokens, long nowMillis) {
    tokenWrite(DEBIT, user, endpoint, plan, tokens, 0, nowMillis);
  }

  private void tokenWrite(byte[] op, String user, String endpoint, WindowPlan plan, long tokens, long countedAt,
      long nowMillis) {
    try {
      step(op, user, endpoint, plan, tokens, countedAt, nowMillis);
    } catch (Unavailable e) {
      switch (decision(e)) {
        case LOCAL -> {
          WindowStore fallback = local(plan.bucketCount());
          if (op == DEBIT) {
            fallback.debitTokens(user, endpoint, plan, tokens, nowMillis);
          } else {
            fallback.refundTokens(user, endpoint, plan, tokens, countedAt, nowMillis);
          }
        }
        case OPEN -> {
          // Nothing is counted while Redis does not answer: nothing to add or give back.
        }
        case CLOSED -> throw unavailable(e);
      }
    }
  }

  @Override
  public WindowReading readTokens(String user, String endpoint, WindowPlan plan, long nowMillis) {
    int n = plan.tokenSize();
    List<Object> reply;
    try {
      reply = step(READ_TOKENS, user, endpoint, plan, 1, 0, nowMillis);
    } catch (Unavailable e) {
      return switch (decision(e)) {
        case LOCAL -> local(plan.bucketCount()).readTokens(user, endpoint, plan, nowMillis);
        case OPEN -> new WindowReading(new long[n], new long[n]);
        case CLOSED -> throw unavailable(e);
      };
    }
    long[] counts = new long[n];
    long[] resets = new long[n];
    for (int j = 0; j < n; j++) {
      counts[j] = (Long) reply.get(1 + j);
      resets[j] = (Long) reply.get(1 + n + j);
    }
    return new WindowReading(counts, resets);
  }

  @Override
  public boolean countsTokens() {
    return true;
  }

  // ---- concurrency permits ----

  /**
   * {@inheritDoc}
   *
   * <p>The permit is a member of the pair's sorted set in Redis, scored by its lease end on the
   * script's clock; the id is random (63 bits), so instances need no shared counter.
   */
  @Override
  public long acquirePermit(String user, String endpoint, int max, long leaseMillis, long nowMillis) {
    try {
      for (int attempt = 0; ; attempt++) {
        long id = ThreadLocalRandom.current().nextLong(OPEN_PERMIT);
        List<Object> reply = permitStep(ACQUIRE_PERMIT, user, endpoint, nowMillis, ascii(max), ascii(leaseMillis),
            ascii(id));
        long taken = (Long) reply.get(0);
        if (taken == 1) {
          return id;
        } else if (taken == 0) {
          return NO_PERMIT;
        } else if (attempt >= 8) {
          throw new Unavailable("no free permit id after " + attempt + " attempts", null);
        }
      }
    } catch (Unavailable e) {
      return switch (decision(e)) {
        case LOCAL -> local(localBuckets()).acquirePermit(user, endpoint, max, leaseMillis, nowMillis);
        case OPEN -> OPEN_PERMIT;
        case CLOSED -> throw unavailable(e);
      };
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Never throws for Redis's sake, whatever the fail mode: a permit that cannot be returned ends
   * with its lease. A permit that Redis does not hold is looked for in the in-process fallback store
   * (it may have granted it while Redis was not answering).
   */
  @Override
  public boolean releasePermit(String user, String endpoint, long permit, long nowMillis) {
    boolean released = false;
    try {
      released = (Long) permitStep(RELEASE_PERMIT, user, endpoint, nowMillis, ascii(permit)).get(0) == 1;
    } catch (Unavailable e) {
      // counted as a failure by the step; the lease ends by itself
    }
    WindowStore fallback = local;
    return released || (fallback != null && fallback.releasePermit(user, endpoint, permit, nowMillis));
  }

  @Override
  public int permitsHeld(String user, String endpoint, long nowMillis) {
    try {
      return ((Long) permitStep(PERMITS_HELD, user, endpoint, nowMillis).get(0)).intValue();
    } catch (Unavailable e) {
      return switch (decision(e)) {
        case LOCAL -> local(localBuckets()).permitsHeld(user, endpoint, nowMillis);
        case OPEN -> 0;
        case CLOSED -> throw unavailable(e);
      };
    }
  }

  @Override
  public boolean countsPermits() {
    return true;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Also resets the user in the in-process fallback store, if one was used.
   *
   * @throws StoreUnavailableException if Redis cannot be reached: a reset that did not happen must not
   *     look as if it did, whatever the fail mode
   */
  @Override
  public List<String> resetUser(String user) {
    Objects.requireNonNull(user, "user must not be null");
    if (refusals != null) {
      refusals.forgetUser(user);
    }
    List<String> endpoints = new ArrayList<>();
    WindowStore fallback = local;
    if (fallback != null) {
      endpoints.addAll(fallback.resetUser(user));
    }
    List<Object> reply;
    try {
      reply = call(c -> c.evalsha(SHA, ScriptOutputType.MULTI, new byte[][] {keys.index(user)}, RESET),
          maintenanceTimeoutNanos);
    } catch (Unavailable e) {
      failures.increment();
      throw unavailable(e);
    }
    if (refusals != null) {
      // Again after the reset: a step in flight across it may have kept a refusal Redis gave before it
      // (decide keeps none once it sees the count move, and forgets one it kept just as it moved).
      resets.incrementAndGet();
      refusals.forgetUser(user);
    }
    for (Object name : reply) {
      String endpoint = PairKeys.decodeName((byte[]) name);
      if (!endpoints.contains(endpoint)) {
        endpoints.add(endpoint);
      }
    }
    return endpoints;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Redis drops pairs past their expiry by itself (those are not counted here); this scans the pair
   * keys and removes those whose windows count nothing. While Redis cannot be reached, only the
   * in-process fallback store is swept.
   */
  @Override
  public int removeExpired(PlanSource plans, long nowMillis) {
    WindowStore fallback = local;
    int removed = fallback == null ? 0 : fallback.removeExpired(plans, nowMillis);
    try {
      ScanCursor cursor = ScanCursor.INITIAL;
      ScanArgs args = ScanArgs.Builder.matches(keys.pairPattern()).limit(SCAN_BATCH);
      do {
        ScanCursor from = cursor;
        KeyScanCursor<byte[]> page = call(c -> c.scan(from, args), maintenanceTimeoutNanos);
        List<byte[]> pairKeys = page.getKeys();
        removed += sweep(pairKeys, plans, nowMillis);
        cursor = page;
      } while (!cursor.isFinished());
    } catch (Unavailable e) {
      failures.increment();
    }
    return removed;
  }

  private int sweep(List<byte[]> pairKeys, PlanSource plans, long nowMillis) throws Unavailable {
    StatefulRedisConnection<byte[], byte[]> conn = connectionOrFail();
    List<RedisFuture<List<KeyValue<byte[], byte[]>>>> names = new ArrayList<>();
    for (byte[] key : pairKeys) {
      names.add(conn.async().hmget(key, USER_FIELD, ENDPOINT_FIELD));
    }
    long deadline = System.nanoTime() + maintenanceTimeoutNanos;
    List<RedisFuture<List<Object>>> steps = new ArrayList<>();
    for (int i = 0; i < pairKeys.size(); i++) {
      List<KeyValue<byte[], byte[]>> kv = await(names.get(i), deadline);
      if (!kv.get(0).hasValue() || !kv.get(1).hasValue()) {
        continue; // expired meanwhile
      }
      String user = PairKeys.decodeName(kv.get(0).getValue());
      String endpoint = PairKeys.decodeName(kv.get(1).getValue());
      WindowPlan plan = plans.planFor(user, endpoint);
      steps.add(conn.async().evalsha(SHA, ScriptOutputType.MULTI, new byte[][] {pairKeys.get(i), keys.index(user)},
          args(QUIET, user, endpoint, plan, 1, 0, nowMillis)));
    }
    int removed = 0;
    for (RedisFuture<List<Object>> step : steps) {
      List<Object> reply;
      try {
        reply = await(step, deadline);
      } catch (Unavailable e) {
        if (e.getCause() instanceof RedisNoScriptException) {
          loadScript(conn, deadline);
          return removed; // the rest are swept next time
        }
        throw e;
      }
      removed += ((Long) reply.get(1)).intValue();
    }
    return removed;
  }

  @Override
  public List<RateLimitKey> keys(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max must be >= 0 but was " + max);
    }
    List<RateLimitKey> found = new ArrayList<>();
    try {
      ScanCursor cursor = ScanCursor.INITIAL;
      ScanArgs args = ScanArgs.Builder.matches(keys.pairPattern()).limit(SCAN_BATCH);
      while (found.size() < max) {
        ScanCursor from = cursor;
        KeyScanCursor<byte[]> page = call(c -> c.scan(from, args), maintenanceTimeoutNanos);
        StatefulRedisConnection<byte[], byte[]> conn = connectionOrFail();
        List<RedisFuture<List<KeyValue<byte[], byte[]>>>> names = new ArrayList<>();
        for (byte[] key : page.getKeys()) {
          names.add(conn.async().hmget(key, USER_FIELD, ENDPOINT_FIELD));
        }
        long deadline = System.nanoTime() + maintenanceTimeoutNanos;
        for (RedisFuture<List<KeyValue<byte[], byte[]>>> name : names) {
          List<KeyValue<byte[], byte[]>> kv = await(name, deadline);
          if (found.size() < max && kv.get(0).hasValue() && kv.get(1).hasValue()) {
            found.add(new RateLimitKey(PairKeys.decodeName(kv.get(0).getValue()),
                PairKeys.decodeName(kv.get(1).getValue())));
          }
        }
        cursor = page;
        if (cursor.isFinished()) {
          break;
        }
      }
    } catch (Unavailable e) {
      failures.increment();
      WindowStore fallback = local;
      return fallback == null ? List.of() : fallback.keys(max);
    }
    return Collections.unmodifiableList(found);
  }

  /** {@inheritDoc} Counts the pair keys with SCAN: O(pairs), meant for dashboards, not hot paths. */
  @Override
  public long size() {
    long count = 0;
    try {
      ScanCursor cursor = ScanCursor.INITIAL;
      ScanArgs args = ScanArgs.Builder.matches(keys.pairPattern()).limit(SCAN_BATCH);
      do {
        ScanCursor from = cursor;
        KeyScanCursor<byte[]> page = call(c -> c.scan(from, args), maintenanceTimeoutNanos);
        count += page.getKeys().size();
        cursor = page;
      } while (!cursor.isFinished());
    } catch (Unavailable e) {
      failures.increment();
      WindowStore fallback = local;
      return fallback == null ? 0 : fallback.size();
    }
    return count;
  }

  @Override
  public void cleanUp() {
    WindowStore fallback = local;
    if (fallback != null) {
      fallback.cleanUp();
    }
  }

  /** Closes the connection and the Lettuce client's threads. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    StatefulRedisConnection<byte[], byte[]> conn = connection;
    if (conn != null) {
      conn.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }

  /** A snapshot of the fault counters. */
  public Counters counters() {
    return new Counters(failures.sum(), breakerOpens.sum(), localDecisions.sum(), openAdmits.sum(),
        closedRefusals.sum(), cachedRefusals.sum());
  }

  /** Whether the circuit breaker is open (Redis is not being called, except by probes). */
  public boolean isBreakerOpen() {
    return breaker.isOpen();
  }

  /** The SHA-1 digest of the script, as EVALSHA names it. */
  static String scriptDigest() {
    return SHA;
  }

  /** The fail mode. */
  public FailMode failMode() {
    return failMode;
  }

  @Override
  public String toString() {
    return "RedisWindowStore[" + describe(uri) + ", failMode=" + failMode.wireName() + "]";
  }

  // ---- one step ----

  /** Thrown inside the store when Redis did not answer in time, or answered with an error. */
  private static final class Unavailable extends Exception {
    private static final long serialVersionUID = 1L;

    Unavailable(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  @FunctionalInterface
  private interface Command<T> {
    RedisFuture<T> send(RedisAsyncCommands<byte[], byte[]> commands);
  }

  private List<Object> step(byte[] op, String user, String endpoint, WindowPlan plan, long cost, long countedAt,
      long nowMillis) throws Unavailable {
    return eval(new byte[][] {keys.pair(user, endpoint), keys.index(user)},
        args(op, user, endpoint, plan, cost, countedAt, nowMillis));
  }

  /** One permit step: op, now, then the op's own arguments. */
  private List<Object> permitStep(byte[] op, String user, String endpoint, long nowMillis, byte[]... rest)
      throws Unavailable {
    byte[][] args = new byte[2 + rest.length][];
    args[0] = op;
    args[1] = callerTime ? ascii(nowMillis) : REDIS_TIME;
    System.arraycopy(rest, 0, args, 2, rest.length);
    return eval(new byte[][] {keys.permits(user, endpoint)}, args);
  }

  private List<Object> eval(byte[][] keyArgs, byte[][] args) throws Unavailable {
    if (!breaker.allow()) {
      throw new Unavailable("the circuit breaker is open", null);
    }
    long start = System.nanoTime();
    long deadline = start + timeoutNanos;
    try {
      StatefulRedisConnection<byte[], byte[]> conn = connectionOrFail();
      List<Object> reply;
      try {
        reply = await(conn.async().evalsha(SHA, ScriptOutputType.MULTI, keyArgs, args), deadline);
      } catch (Unavailable e) {
        if (!(e.getCause() instanceof RedisNoScriptException)) {
          throw e;
        }
        loadScript(conn, deadline);
        reply = await(conn.async().evalsha(SHA, ScriptOutputType.MULTI, keyArgs, args), deadline);
      }
      onSuccess();
      if (listener != ControlTowerListener.NOOP) {
        listener.onStoreLatency("eval", System.nanoTime() - start);
      }
      return reply;
    } catch (Unavailable e) {
      onFailure(e);
      throw e;
    }
  }

  private <T> T call(Command<T> command, long timeout) throws Unavailable {
    long deadline = System.nanoTime() + timeout;
    StatefulRedisConnection<byte[], byte[]> conn = connectionOrFail();
    try {
      return await(command.send(conn.async()), deadline);
    } catch (Unavailable e) {
      if (!(e.getCause() instanceof RedisNoScriptException)) {
        throw e;
      }
      loadScript(conn, deadline);
      return await(command.send(conn.async()), deadline);
    }
  }

  private void loadScript(StatefulRedisConnection<byte[], byte[]> conn, long deadline) throws Unavailable {
    String loaded = await(conn.async().scriptLoad(SCRIPT), deadline);
    if (!SHA.equals(loaded)) {
      throw new Unavailable("Redis gave the script the digest " + loaded + ", not " + SHA, null);
    }
  }

  private static <T> T await(Future<T> future, long deadline) throws Unavailable {
    try {
      return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new Unavailable("no answer within the timeout", e);
    } catch (ExecutionException e) {
      throw new Unavailable(rootMessage(e), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(false);
      throw new Unavailable("interrupted", e);
    } catch (RuntimeException e) {
      throw new Unavailable(e.toString(), e);
    }
  }

  /**
   * The script's arguments: op, now, cost, B, retention, names, n, then (field, W, limit) per request
   * window, t, then (field, W, limit) per token window, then countedAt.
   */
  private byte[][] args(byte[] op, String user, String endpoint, WindowPlan plan, long cost, long countedAt,
      long nowMillis) {
    int n = plan.size();
    int t = plan.tokenSize();
    byte[][] args = new byte[10 + 3 * (n + t)][];
    args[0] = op;
    args[1] = callerTime ? ascii(nowMillis) : REDIS_TIME;
    args[2] = ascii(cost);
    args[3] = ascii(plan.bucketCount());
    args[4] = ascii(plan.retainMillis());
    args[5] = PairKeys.encodeName(user);
    args[6] = PairKeys.encodeName(endpoint);
    args[7] = ascii(n);
    for (int i = 0; i < n; i++) {
      args[8 + 3 * i] = TYPE_FIELDS[plan.type(i).ordinal()];
      args[9 + 3 * i] = ascii(plan.windowMillis(i));
      args[10 + 3 * i] = ascii(plan.limit(i));
    }
    int at = 8 + 3 * n;
    args[at] = ascii(t);
    for (int j = 0; j < t; j++) {
      args[at + 1 + 3 * j] = TYPE_FIELDS[plan.tokenType(j).ordinal()];
      args[at + 2 + 3 * j] = ascii(plan.tokenWindowMillis(j));
      args[at + 3 + 3 * j] = ascii(plan.tokenLimit(j));
    }
    args[at + 1 + 3 * t] = op == REFUND ? ascii(countedAt) : ZERO;
    return args;
  }

  private static byte[] ascii(long value) {
    return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
  }

  /** The script's admission or refusal; a refusal describes {@code n} windows. */
  private static Outcome outcome(List<Object> reply, int n) {
    long kind = (Long) reply.get(0);
    if (kind == 1) {
      int tightest = ((Long) reply.get(1)).intValue();
      long remaining = (Long) reply.get(3);
      return Outcome.admitted(tightest, (Long) reply.get(2), remaining < 0 ? Long.MAX_VALUE : remaining,
          (Long) reply.get(4));
    }
    long[] counts = new long[n];
    long[] waits = new long[n];
    for (int i = 0; i < n; i++) {
      counts[i] = (Long) reply.get(1 + i);
      long wait = (Long) reply.get(1 + n + i);
      waits[i] = wait == -2 ? Outcome.NEVER : wait == -1 ? Outcome.ROOM : wait;
    }
    return Outcome.refused(counts, waits);
  }

  private long cacheTime(long nowMillis) {
    return callerTime ? nowMillis : TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }

  // ---- faults ----

  private void onSuccess() {
    if (breaker.success() == CircuitBreaker.Change.CLOSED) {
      listener.onBreakerStateChanged("closed");
      LOG.info("Redis at {} answers again; leaving fail mode {}", describe(uri), failMode.wireName());
    }
  }

  private void onFailure(Unavailable e) {
    failures.increment();
    if (breaker.failure() == CircuitBreaker.Change.OPENED) {
      breakerOpens.increment();
      listener.onBreakerStateChanged("open");
      LOG.warn("Redis at {} is failing ({}); circuit breaker open, fail mode {} until a probe succeeds",
          describe(uri), e.getMessage(), failMode.wireName());
    }
  }

  private FailMode decision(Unavailable e) {
    listener.onStoreFallback(failMode.wireName());
    switch (failMode) {
      case LOCAL -> localDecisions.increment();
      case OPEN -> openAdmits.increment();
      default -> closedRefusals.increment();
    }
    return failMode;
  }

  private Outcome fallback(Unavailable e, byte[] op, String user, String endpoint, WindowPlan plan, long cost,
      long nowMillis) {
    return switch (decision(e)) {
      case LOCAL -> op == ACQUIRE
          ? local(plan.bucketCount()).acquire(user, endpoint, plan, cost, nowMillis)
          : local(plan.bucketCount()).check(user, endpoint, plan, cost, nowMillis);
      case OPEN -> WindowMath.emptyPair(plan, cost, op == ACQUIRE);
      case CLOSED -> throw unavailable(e);
    };
  }

  private StoreUnavailableException unavailable(Unavailable e) {
    long retry = Math.max(TimeUnit.NANOSECONDS.toMillis(breaker.nanosUntilProbe()), 1000);
    return new StoreUnavailableException("Redis store at " + describe(uri) + " unavailable: " + e.getMessage(),
        retry, e.getCause());
  }

  /** The bucket count of the fallback store, for calls without a plan (permits); 10 before any. */
  private int localBuckets() {
    int b = localBuckets;
    return b == 0 ? 10 : b;
  }

  private WindowStore local(int bucketCount) {
    WindowStore store = local;
    if (store == null || bucketCount != localBuckets) {
      synchronized (this) {
        store = local;
        if (store == null || bucketCount != localBuckets) {
          // A limiter compiles every plan with one bucket count; a store used by several (or built
          // with another count) keeps the latest.
          store = WindowStore.inMemory(localClock, localMaximumKeys, bucketCount);
          localBuckets = bucketCount;
          local = store;
        }
      }
    }
    return store;
  }

  // ---- the connection ----

  /**
   * The connection, or a failure at once when there is none yet (a new attempt is then started in the
   * background: no caller waits for a connect).
   */
  private StatefulRedisConnection<byte[], byte[]> connectionOrFail() throws Unavailable {
    StatefulRedisConnection<byte[], byte[]> conn = connection;
    if (conn != null) {
      return conn;
    }
    connectAsync();
    throw new Unavailable("not connected", null);
  }

  private CompletableFuture<StatefulRedisConnection<byte[], byte[]>> connectAsync() {
    synchronized (connecting) {
      if (closed) {
        return CompletableFuture.failedFuture(new IllegalStateException("closed"));
      }
      if (pending != null && !pending.isDone()) {
        return pending;
      }
      // The attempt completes only once the connection is published: the constructor waits on it, and
      // a first call that found no connection yet would be answered by the fail mode although Redis is
      // up (seen once in 1,500 fresh stores while the connect future was done and its callback not).
      CompletableFuture<StatefulRedisConnection<byte[], byte[]>> attempt =
          client.connectAsync(ByteArrayCodec.INSTANCE, uri).toCompletableFuture().thenApply(conn -> {
            synchronized (connecting) {
              if (closed) {
                conn.closeAsync();
                throw new IllegalStateException("closed");
              }
              connection = conn;
            }
            conn.async().scriptLoad(SCRIPT);
            return conn;
          });
      pending = attempt;
      return attempt;
    }
  }

  // ---- helpers ----

  /**
   * {@code uri} with whatever stands before its host's {@code @} (a password, or a user and password)
   * replaced by {@code ****}; as it is when it has no {@code @}.
   */
  static String masked(String uri) {
    int at = uri.lastIndexOf('@');
    if (at < 0) {
      return uri;
    }
    int scheme = uri.indexOf("://");
    int from = scheme >= 0 && scheme < at ? scheme + 3 : 0;
    return uri.substring(0, from) + "****" + uri.substring(at);
  }

  private static String describe(RedisURI uri) {
    return uri.getHost() + ":" + uri.getPort() + (uri.getDatabase() != 0 ? "/" + uri.getDatabase() : "");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  private static byte[] loadScript() {
    try (InputStream in = RedisWindowStore.class.getResourceAsStream("window.lua")) {
      if (in == null) {
        throw new IllegalStateException("window.lua is missing from the controltower-redis jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1Hex(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(bytes);
      StringBuilder hex = new StringBuilder();
      for (byte b : digest) {
        hex.append(Character.forDigit((b >>> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
  }

  /**
   * Builds a {@link RedisWindowStore}. Not thread-safe; each setting may be given once, and is checked
   * when given.
   */
  public static final class Builder {
    private RedisURI uri;
    private Duration timeout = Duration.ofMillis(50);
    private Duration connectTimeout = Duration.ofSeconds(1);
    private String keyPrefix = "controltower:";
    private FailMode failMode = FailMode.LOCAL;
    private InstantSource clock;
    private ControlTowerListener listener;
    private int breakerFailures = 3;
    private Duration breakerProbeAfter = Duration.ofMillis(500);
    private int refusalCacheSize = 10_000;
    private int localMaximumKeys = 100_000;
    private int requestQueueSize = 10_000;
    private int bucketCount = 10;
    private final Set<String> set = new HashSet<>();

    private Builder() {}

    private void once(String name) {
      if (!set.add(name)) {
        throw new IllegalStateException(name + " was already set");
      }
    }

    /**
     * Where Redis is: {@code redis://[password@]host[:port][/database]} (or {@code rediss://}).
     *
     * @throws IllegalArgumentException naming the value when it is not such a URI
     */
    public Builder uri(String uri) {
      Objects.requireNonNull(uri, "redis-uri must not be null");
      once("uri");
      // A refusal quotes the value with its password masked: these messages reach startup logs.
      try {
        this.uri = RedisURI.create(uri);
      } catch (RuntimeException e) {
        // Lettuce's reason may quote any part of the value, so it is given only when there is no password.
        String reason = e.getMessage() == null || uri.indexOf('@') >= 0 ? "" : " (" + e.getMessage() + ")";
        throw new IllegalArgumentException("redis-uri must be a URI like redis://host:6379 but was " + masked(uri)
            + reason); // not chained: the cause's message may quote the password too
      }
      if (this.uri.getHost() == null || this.uri.getHost().isEmpty()) {
        throw new IllegalArgumentException("redis-uri must name a host, like redis://host:6379, but was "
            + masked(uri));
      }
      return this;
    }

    /** How long one call may take before the fail mode answers; default 50 ms, at least 1 ms. */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout must not be null");
      once("timeout");
      if (timeout.toMillis() < 1) {
        throw new IllegalArgumentException("timeout must be >= 1 ms but was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** How long opening a connection may take; default 1 s. */
    public Builder connectTimeout(Duration connectTimeout) {
      Objects.requireNonNull(connectTimeout, "connectTimeout must not be null");
      once("connectTimeout");
      if (connectTimeout.toMillis() < 1) {
        throw new IllegalArgumentException("connectTimeout must be >= 1 ms but was " + connectTimeout);
      }
      this.connectTimeout = connectTimeout;
      return this;
    }

    /** What every key of this store starts with; default {@code "controltower:"}. */
    public Builder keyPrefix(String keyPrefix) {
      Objects.requireNonNull(keyPrefix, "keyPrefix must not be null");
      once("keyPrefix");
      if (keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0) {
        throw new IllegalArgumentException("keyPrefix must not contain { or } (the hash tag is the store's) but was "
            + keyPrefix);
      }
      this.keyPrefix = keyPrefix;
      return this;
    }

    /** What to answer while Redis does not; default {@link FailMode#LOCAL}. */
    public Builder failMode(FailMode failMode) {
      Objects.requireNonNull(failMode, "failMode must not be null");
      once("failMode");
      this.failMode = failMode;
      return this;
    }

    /**
     * Opens the circuit breaker after {@code failures} consecutive failed calls and lets one probe
     * through {@code probeAfter} later; default 3 and 500 ms.
     */
    public Builder circuitBreaker(int failures, Duration probeAfter) {
      Objects.requireNonNull(probeAfter, "probeAfter must not be null");
      once("circuitBreaker");
      if (failures < 1) {
        throw new IllegalArgumentException("failures must be >= 1 but was " + failures);
      }
      if (probeAfter.isNegative()) {
        throw new IllegalArgumentException("probeAfter must be >= 0 but was " + probeAfter);
      }
      this.breakerFailures = failures;
      this.breakerProbeAfter = probeAfter;
      return this;
    }

    /**
     * How many refused pairs are remembered locally until their wait passes; 0 turns the cache off.
     * Default 10,000.
     */
    public Builder refusalCacheSize(int size) {
      once("refusalCacheSize");
      if (size < 0) {
        throw new IllegalArgumentException("refusalCacheSize must be >= 0 but was " + size);
      }
      this.refusalCacheSize = size;
      return this;
    }

    /**
     * The bucket count of the limiter this store serves (its plans'), for the in-process store of fail
     * mode {@code local}, which is made in advance; default 10, a divisor of 1,000.
     */
    public Builder bucketCount(int bucketCount) {
      once("bucketCount");
      if (bucketCount < 1 || 1000 % bucketCount != 0) {
        throw new IllegalArgumentException("bucketCount must be a divisor of 1000 but was " + bucketCount);
      }
      this.bucketCount = bucketCount;
      return this;
    }

    /** The bound of the in-process store of fail mode {@code local}; default 100,000 pairs. */
    public Builder localMaximumKeys(int maximumKeys) {
      once("localMaximumKeys");
      if (maximumKeys < 1) {
        throw new IllegalArgumentException("localMaximumKeys must be >= 1 but was " + maximumKeys);
      }
      this.localMaximumKeys = maximumKeys;
      return this;
    }

    /**
     * Told of the store's own events: each fail-mode decision ({@code onStoreFallback} with the mode),
     * each breaker change ({@code onBreakerStateChanged}: {@code open}, {@code closed}) and each script
     * call's latency ({@code onStoreLatency("eval", nanos)}); default none. A listener that throws is
     * logged once and never breaks a call.
     */
    public Builder listener(ControlTowerListener listener) {
      Objects.requireNonNull(listener, "listener must not be null");
      once("listener");
      this.listener = listener;
      return this;
    }

    /**
     * For tests: the script takes its time from each call's {@code nowMillis} instead of Redis's
     * {@code TIME}, and {@code clock} is the in-process fallback store's time source, so that a test
     * drives every clock of the store with one fake clock.
     */
    public Builder clockForTests(InstantSource clock) {
      Objects.requireNonNull(clock, "clock must not be null");
      once("clockForTests");
      this.clock = clock;
      return this;
    }

    /**
     * The store, connected (it waits up to the connect timeout for Redis; if Redis is not there it
     * starts in its fail mode and keeps trying).
     *
     * @throws IllegalStateException if no {@link #uri} was given
     */
    public RedisWindowStore build() {
      if (uri == null) {
        throw new IllegalStateException("redis-uri is required");
      }
      uri.setTimeout(timeout);
      return new RedisWindowStore(this);
    }
  }
}
