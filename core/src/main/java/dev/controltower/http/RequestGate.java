package dev.controltower.http;

import dev.controltower.resources.ConcurrencyPermit;
import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitDecision;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.resources.internal.LocalResourceTracker;
import dev.controltower.resources.WindowUsage;
import dev.controltower.spi.ControlTowerListener;
import dev.controltower.spi.StoreUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every HTTP adapter does with a request, without any framework type: who is it
 * ({@link #clientKey}), which endpoint ({@link #endpoint}), may it pass ({@link #admit}, which also
 * gives it a process and its pid), and the end of it ({@link #release}). An adapter only translates its request and
 * response objects:
 *
 * <pre>{@code
 * if (gate.isPreflight(method, headers) || gate.isExcluded(method, path, false)) { pass; }
 * Admission a = gate.admit(gate.clientKey(principal, headers, remoteAddr), gate.endpoint(method, path, false),
 *     requestIdHeader);
 * if (!a.admitted()) { write a.rejection(); return; }
 * set a.headers(); expose a.process();
 * try { pass; } catch (RequestLimitException e) { write e.problem(); }
 * finally { gate.release(a.process()); }   // or on async completion
 * }</pre>
 *
 * <p><b>Thread safety.</b> Immutable configuration around a thread-safe limiter and tracker; share one
 * gate between threads, and between adapters.
 *
 * <p><b>Logging.</b> Rejections are logged at DEBUG with client-derived text neutralized
 * ({@link LogText}); nothing is logged at INFO or above per request.
 */
public final class RequestGate {
  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  private final HttpSettings settings;
  private final RateLimiter limiter;
  private final ResourceTracker tracker;
  private final ClientIdentityResolver identity;
  private final EndpointResolver endpoints;
  private final Supplier<String> pids;
  private final Logger log;
  private final ControlTowerListener listener;
  private final ProblemResponse ambiguousIdentity;
  /**
   * Each endpoint's pre-rendered field parts ({@code RateLimit-Policy}, {@code pk}) under its current
   * config: configs rarely change, and formatting and hashing cost. Endpoint names are bounded by the
   * application (patterns, route templates); past {@value #MAX_CACHED_ENDPOINTS} names, parts are made
   * per request instead of cached.
   */
  private final ConcurrentMap<String, RateLimitHeaders.EndpointFields> endpointFields = new ConcurrentHashMap<>();
  private static final int MAX_CACHED_ENDPOINTS = 4096;

  private RequestGate(Builder b) {
    this.settings = b.settings == null ? HttpSettings.defaults() : b.settings;
    this.limiter = b.limiter == null ? settings.newRateLimiter() : b.limiter;
    this.tracker = b.tracker == null ? ResourceTracker.create(settings.quota()) : b.tracker;
    this.identity = new ClientIdentityResolver(settings);
    this.endpoints = new EndpointResolver(settings);
    this.pids = b.pids == null ? RequestGate::randomPid : b.pids;
    this.ambiguousIdentity = ProblemResponse.ambiguousApiKey(
        settings.userHeader() == null ? "API-key header" : settings.userHeader());
    this.log = b.logger == null ? LoggerFactory.getLogger(RequestGate.class) : b.logger;
    this.listener = b.listener == null ? limiter.listener() : ControlTowerListener.guarded(b.listener);
  }

  /**
   * A random (version 4) UUID from {@link ThreadLocalRandom}. Not {@link UUID#randomUUID()}: a pid is an
   * identifier, not a secret (with {@code trust-request-id} clients even choose their own), and
   * SecureRandom's NativePRNG serializes every caller on one lock around reads of /dev/urandom, which
   * profiled at 14% of the filter's time under load.
   */
  static String randomPid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & ~(3L << 62)) | (2L << 62);
    return new UUID(high, low).toString();
  }

  private RateLimitHeaders.EndpointFields endpointFields(String endpoint, RateLimitConfig config) {
    RateLimitHeaders.EndpointFields fields = endpointFields.get(endpoint);
    if (fields == null || fields.config != config) {
      fields = RateLimitHeaders.fields(config, endpoint);
      if (endpointFields.size() < MAX_CACHED_ENDPOINTS || endpointFields.containsKey(endpoint)) {
        endpointFields.put(endpoint, fields);
      }
    }
    return fields;
  }

  /** A builder; every setting is optional. */
  public static Builder builder() {
    return new Builder();
  }

  /** The settings. */
  public HttpSettings settings() {
    return settings;
  }

  /** The limiter every request is counted in. */
  public RateLimiter rateLimiter() {
    return limiter;
  }

  /** The tracker every admitted request's pid lives in. */
  public ResourceTracker resourceTracker() {
    return tracker;
  }

  /**
   * The listener told of processes (started, ended with their duration) and quota violations: the
   * builder's, else the limiter's ({@link RateLimiter#listener()}); guarded, so it never throws.
   * Admissions and rejections are the limiter's to report.
   */
  public ControlTowerListener listener() {
    return listener;
  }

  /**
   * The user key of a request; see {@link ClientIdentityResolver#resolve}. When it is
   * {@link ClientIdentityResolver#AMBIGUOUS}, answer {@link #ambiguousIdentity()} and do not admit.
   */
  public String clientKey(String principalName, Function<String, List<String>> headers, String remoteAddr) {
    return identity.resolve(principalName, headers, remoteAddr);
  }

  /** The 400 answer for a request whose {@link #clientKey} is {@link ClientIdentityResolver#AMBIGUOUS}. */
  public ProblemResponse ambiguousIdentity() {
    return ambiguousIdentity;
  }

  /** The endpoint a request counts against; see {@link EndpointResolver#endpoint}. */
  public String endpoint(String method, String path, boolean decode) {
    return endpoints.endpoint(method, path, decode);
  }

  /**
   * Whether {@link #endpoint} or {@link #isExcluded} look at the path at all; when not (no endpoint
   * patterns, no exclusions), an adapter may skip building it.
   */
  public boolean usesPaths() {
    return endpoints.usesPaths();
  }

  /**
   * What to do with a request by the path its container decoded and mapped: count it against an
   * endpoint, pass it as excluded, or refuse it (400, {@link ProblemResponse#ambiguousPath()}); see
   * {@link EndpointResolver#route}. Servlet adapters use this rather than {@link #isExcluded} and
   * {@link #endpoint}, so that a decoded {@code ;} or {@code ..} is never read again.
   */
  public PathDecision route(String method, String decodedPath) {
    return endpoints.route(method, decodedPath);
  }

  /**
   * Whether a path its runtime decoded is excluded under every reading; see
   * {@link EndpointResolver#isExcludedDecoded}.
   */
  public boolean isExcludedDecoded(String method, String decodedPath) {
    return endpoints.isExcludedDecoded(method, decodedPath);
  }

  /** Whether the path is excluded from limits and tracking; see {@link EndpointResolver#isExcluded}. */
  public boolean isExcluded(String method, String path, boolean decode) {
    return endpoints.isExcluded(method, path, decode);
  }

  /**
   * Whether a request is a CORS preflight (OPTIONS with {@code Origin} and
   * {@code Access-Control-Request-Method}), which is not counted.
   */
  public static boolean isPreflight(String method, Function<String, List<String>> headers) {
    return "OPTIONS".equals(method) && present(headers.apply("Origin"))
        && present(headers.apply("Access-Control-Request-Method"));
  }

  private static boolean present(List<String> values) {
    return values != null && !values.isEmpty() && values.get(0) != null;
  }

  /**
   * Counts one request and, if admitted, allocates its pid with {@link HttpSettings#quota()}: at once, or,
   * with {@code process-id-header=none} and this kit's tracker, at the first use of its process, timed
   * from now (unless a trusted {@code X-Request-Id} is the pid). When the
   * pair has a concurrency limit, the request first takes a slot (a lease of the quota's
   * {@code timeoutSeconds}, returned by {@link #release}); a refusal is a 429 whose {@code limit_type} is
   * {@code concurrency}, with {@code Retry-After: 1}, and counts nothing. An admitted response of an
   * endpoint with token windows also carries the {@code x-ratelimit-*-tokens} fields.
   *
   * @param clientKey from {@link #clientKey}
   * @param endpoint from {@link #endpoint}, or a route template
   * @param requestId the incoming {@code X-Request-Id}, or {@code null}; used as the pid only when
   *     {@link HttpSettings#trustRequestId()} and well-formed ({@code [A-Za-z0-9._:-]{1,64}}) and not
   *     already tracked
   * @return the admission; when admitted, the caller must {@link #release} its process exactly when
   *     the response completes; a 503 rejection when the limiter's store threw
   *     {@link StoreUnavailableException} (a shared store in fail mode {@code closed})
   * @throws NullPointerException if {@code clientKey} or {@code endpoint} is null
   * @throws IllegalArgumentException if {@code clientKey} is {@link ClientIdentityResolver#AMBIGUOUS}
   */
  public Admission admit(String clientKey, String endpoint, String requestId) {
    return admit(clientKey, endpoint, requestId, settings.quota());
  }

  /**
   * Like {@link #admit(String, String, String)}, allocating the process with {@code quota} instead of
   * the settings' quota (for per-endpoint quotas, such as JAX-RS {@code @Quota} annotations).
   *
   * @throws NullPointerException if {@code clientKey}, {@code endpoint} or {@code quota} is null
   */
  public Admission admit(String clientKey, String endpoint, String requestId, ResourceQuota quota) {
    Objects.requireNonNull(quota, "quota must not be null");
    Objects.requireNonNull(clientKey, "clientKey must not be null");
    Objects.requireNonNull(endpoint, "endpoint must not be null");
    if (ClientIdentityResolver.AMBIGUOUS.equals(clientKey)) {
      throw new IllegalArgumentException("clientKey must be a key, but was " + clientKey
          + ": answer ProblemResponse.ambiguousApiKey instead of counting the request");
    }
    // The slot first: a request refused for concurrency is not counted in the windows.
    ConcurrencyPermit permit = null;
    RateLimitDecision decision;
    try {
      if (limiter.getConfig(clientKey, endpoint).maxConcurrentRequests() > 0) {
        permit = limiter.acquirePermit(clientKey, endpoint, Duration.ofSeconds(Math.max(1, quota.timeoutSeconds())));
        if (!permit.granted()) {
          return rejected(clientKey, endpoint, permit.decision());
        }
      }
      decision = limiter.decide(clientKey, endpoint, true);
    } catch (StoreUnavailableException e) {
      releaseQuietly(permit);
      // The store counts and logs its state changes; per request only DEBUG.
      if (log.isDebugEnabled()) {
        log.debug("store unavailable for {} on {}: 503", LogText.text(clientKey), LogText.text(endpoint));
      }
      return new Admission(null, List.of(), null, ProblemResponse.storeUnavailable(e.retryAfterSeconds()));
    } catch (RuntimeException e) {
      releaseQuietly(permit);
      throw e;
    }
    if (!decision.allowed()) {
      releaseQuietly(permit);
      return rejected(clientKey, endpoint, decision);
    }
    String pidHeader = settings.processIdHeader();
    ProcessContext process;
    HeaderField pidField = null;
    if (pidHeader == null && tracker instanceof LocalResourceTracker local && !isTrustedRequestId(requestId)) {
      // No header names the pid, so it is tracked only when the application first uses the process
      // (ProcessContext.livePid), from this start: a request that records nothing costs no pid.
      process = new ProcessContext(this, tracker, null, local.millis(), clientKey, endpoint, quota, permit, listener);
    } else {
      String pid = allocate(requestId, quota);
      process = new ProcessContext(this, tracker, pid, -1, clientKey, endpoint, quota, permit, listener);
      pidField = pidHeader == null ? null : new HeaderField(pidHeader, pid);
    }
    listener.onProcessStarted(endpoint);
    // Only the draft fields use the endpoint's parts: the other modes skip the lookup.
    RateLimitHeaders.EndpointFields fields =
        settings.rateLimitHeaders().draft() ? endpointFields(endpoint, decision.config()) : null;
    if (!decision.config().hasTokenWindows()) {
      // unmodifiable, so Admission keeps the list without copying it
      return new Admission(decision, RateLimitHeaders.render(decision, settings.rateLimitHeaders(), fields, pidField),
          process, null);
    }
    List<HeaderField> headers = new ArrayList<>(RateLimitHeaders.render(decision, settings.rateLimitHeaders(), fields,
        null));
    try {
      limiter.tokenBudget(clientKey, endpoint)
          .ifPresent(b -> headers.addAll(RateLimitHeaders.tokenFields(b, settings.rateLimitHeaders())));
    } catch (RuntimeException e) {
      release(process);
      throw e;
    }
    if (pidField != null) {
      headers.add(pidField);
    }
    return new Admission(decision, headers, process, null);
  }

  private Admission rejected(String clientKey, String endpoint, RateLimitDecision decision) {
    if (log.isDebugEnabled()) {
      log.debug("rejected {} on {}: {}", LogText.text(clientKey), LogText.text(endpoint), decision.result().reason());
    }
    return new Admission(decision, List.of(), null, refusal(decision, endpoint));
  }

  /** The 429 of a refused decision about {@code endpoint}, with these settings' fields. */
  ProblemResponse refusal(RateLimitDecision decision, String endpoint) {
    return ProblemResponse.rateLimited(decision, decision.violated(), settings.rateLimitHeaders(),
        endpointFields(endpoint, decision.config()));
  }

  private static void releaseQuietly(ConcurrencyPermit permit) {
    if (permit != null) {
      permit.release();
    }
  }

  /**
   * Tracks a process admitted at {@code startMillis} (of {@code local}'s clock) under a fresh pid: at its
   * first use (lazy pids), or at once.
   */
  String trackFreshPid(LocalResourceTracker local, ResourceQuota quota, long startMillis) {
    while (true) {
      String pid = pids.get();
      if (local.allocateFresh(pid, quota, startMillis)) {
        return pid;
      }
    }
  }

  /**
   * A fresh pid that no process holds now: a pid the source repeats while another request holds it is
   * passed over. Also the pid of a process released before anything used it.
   */
  String untrackedPid() {
    while (true) {
      String pid = pids.get();
      if (!tracker.isTracked(pid)) {
        return pid;
      }
    }
  }

  private String allocate(String requestId, ResourceQuota quota) {
    // A pid in use is never allocated (the tracker would WARN about it): a trusted request id that is
    // in flight already, or a generated pid that repeats, is passed over.
    if (tracker instanceof LocalResourceTracker local) {
      // One map operation per request: the insert itself refuses a pid in use, without a WARN.
      long start = local.millis();
      if (isTrustedRequestId(requestId) && local.allocateFresh(requestId, quota, start)) {
        return requestId;
      }
      return trackFreshPid(local, quota, start);
    }
    // Another tracker: checked first. Only two requests racing with the same trusted X-Request-Id can
    // still meet in allocate; that WARN is then the client's doing.
    if (isTrustedRequestId(requestId) && !tracker.isTracked(requestId) && tracker.allocate(requestId, quota)) {
      return requestId;
    }
    while (true) {
      String pid = untrackedPid();
      if (tracker.allocate(pid, quota)) {
        return pid;
      }
    }
  }

  /** Whether {@code requestId} is to be the pid: trusted by the settings and well-formed. */
  private boolean isTrustedRequestId(String requestId) {
    return settings.trustRequestId() && requestId != null && REQUEST_ID.matcher(requestId).matches();
  }

  /**
   * Releases an admitted request's pid. Idempotent: adapters may call it from several completion
   * paths (chain return, async complete, error, timeout); only the first call releases.
   *
   * @return true if this call released the pid
   */
  public boolean release(ProcessContext process) {
    return process != null && process.release();
  }

  /** Builds a {@link RequestGate}. Not thread-safe; each setting may be given once. */
  public static final class Builder {
    private HttpSettings settings;
    private RateLimiter limiter;
    private ResourceTracker tracker;
    private Supplier<String> pids;
    private Logger logger;
    private ControlTowerListener listener;

    private Builder() {}

    /** The settings; default {@link HttpSettings#defaults()}. */
    public Builder settings(HttpSettings settings) {
      this.settings = once("settings", this.settings, settings);
      return this;
    }

    /** The limiter; default one built with {@link HttpSettings#rateLimit()} as its default config. */
    public Builder rateLimiter(RateLimiter limiter) {
      this.limiter = once("rateLimiter", this.limiter, limiter);
      return this;
    }

    /** The tracker; default one built with {@link HttpSettings#quota()} as its default quota. */
    public Builder resourceTracker(ResourceTracker tracker) {
      this.tracker = once("resourceTracker", this.tracker, tracker);
      return this;
    }

    /** Where fresh pids come from; default random UUIDs. It must not repeat itself forever. */
    public Builder pidSource(Supplier<String> pids) {
      this.pids = once("pidSource", this.pids, pids);
      return this;
    }

    /** Where rejections are logged (DEBUG); default the logger of {@code RequestGate}. */
    public Builder logger(Logger logger) {
      this.logger = once("logger", this.logger, logger);
      return this;
    }

    /**
     * Told of processes and quota violations; default the limiter's listener
     * ({@link RateLimiter#listener()}), so that one {@code RateLimiter.builder().listener(...)} covers
     * every event. An exception from it is caught and logged once.
     */
    public Builder listener(ControlTowerListener listener) {
      this.listener = once("listener", this.listener, listener);
      return this;
    }

    private static <T> T once(String name, T current, T value) {
      Objects.requireNonNull(value, name + " must not be null");
      if (current != null) {
        throw new IllegalStateException(name + " was already set to " + current);
      }
      return value;
    }

    /** The gate. */
    public RequestGate build() {
      return new RequestGate(this);
    }
  }
}
