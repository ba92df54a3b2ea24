package dev.controltower.http;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.spi.WindowStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Everything the HTTP adapters ({@code RateLimitFilter}, {@code QuotaInterceptor}) can be configured
 * with, parsed from kebab-case parameters: servlet {@code <init-param>}s or JAX-RS properties. Immutable
 * and thread-safe.
 *
 * <p>Each parameter is one {@link Setting} in {@link #SETTINGS}: its name, what it means, its default
 * and how it is read. {@link #describe()} renders them as a table (the adapters' READMEs carry it). A
 * missing parameter takes its default; a present one that does not parse is an error that names the
 * parameter and the value, never a silent default.
 *
 * @param rateLimit the default rate limits of every (user, endpoint) pair
 * @param quota the quota allocated to every admitted request's process
 * @param identityOrder where the user key comes from, in order; not empty, no repeats
 * @param userHeader the API-key header name, or {@code null} for none
 * @param trustedProxies the proxies whose forwarding header is believed; empty for none
 * @param forwardedHeader the forwarding header name
 * @param maxForwardedHops the most forwarding entries walked, 1-100
 * @param ipv6PrefixLength the prefix that IPv6 clients are grouped by, 1-128
 * @param endpointPatterns endpoint patterns, in match order
 * @param excludePaths patterns of paths that are neither limited nor tracked
 * @param caseInsensitivePaths whether paths are compared ignoring case
 * @param trustRequestId whether a well-formed incoming {@code X-Request-Id} becomes the pid
 * @param trustAnyProxy whether a trusted-proxy block may cover every address
 * @param rateLimitHeaders which rate-limit fields responses carry
 * @param processIdHeader the header carrying the pid, or {@code null} for none
 * @param maxKeys the limiter's bound on (user, endpoint) pairs, {@code >= 1}
 * @param store where the limiter counts ({@code store}, {@code redis-uri}, {@code store-timeout},
 *     {@code fail-mode})
 */
public record HttpSettings(RateLimitConfig rateLimit, ResourceQuota quota, List<IdentitySource> identityOrder,
    String userHeader, List<Cidr> trustedProxies, String forwardedHeader, int maxForwardedHops,
    int ipv6PrefixLength, List<String> endpointPatterns, List<String> excludePaths,
    boolean caseInsensitivePaths, boolean trustRequestId, boolean trustAnyProxy,
    RateLimitHeaders.Mode rateLimitHeaders, String processIdHeader, long maxKeys, StoreSettings store) {

  /**
   * Heap bytes per (user, endpoint) pair the limiter holds, as measured in BENCHMARKS.md (retained heap,
   * one check per pair, 256.8 B on 2026-12-01 with the per-bucket admission times); the startup log's estimate for {@code max-keys} uses it.
   */
  public static final int BYTES_PER_PAIR = 257;
  /** The limiter's own default bound, {@code max-keys} when unset. */
  public static final long DEFAULT_MAX_KEYS = 1_000_000L;
  /** The bucket count of the limiters {@link #newRateLimiter()} builds (the limiter's default). */
  private static final int LIMITER_BUCKETS = 10;

  /** {@code requests-per-minute}. */
  public static final Setting<Integer> REQUESTS_PER_MINUTE = new Setting<>("requests-per-minute",
      "requests per user and endpoint in any 60 s; 0 disables",
      "60", (p, n) -> p.nonNegative(n, RateLimitConfig.defaults().requestsPerMinute()));

  /** {@code requests-per-hour}. */
  public static final Setting<Integer> REQUESTS_PER_HOUR = new Setting<>("requests-per-hour",
      "in any 3,600 s; 0 disables",
      "1000", (p, n) -> p.nonNegative(n, RateLimitConfig.defaults().requestsPerHour()));

  /** {@code requests-per-day}. */
  public static final Setting<Integer> REQUESTS_PER_DAY = new Setting<>("requests-per-day",
      "in any 86,400 s; 0 disables",
      "10000", (p, n) -> p.nonNegative(n, RateLimitConfig.defaults().requestsPerDay()));

  /** {@code burst-size}. */
  public static final Setting<Integer> BURST_SIZE = new Setting<>("burst-size",
      "in any 1 s; 0 disables",
      "0", (p, n) -> p.nonNegative(n, RateLimitConfig.defaults().burstSize()));

  /** {@code tokens-per-minute}. */
  public static final Setting<Long> TOKENS_PER_MINUTE = new Setting<>("tokens-per-minute",
      "LLM tokens per user and endpoint in any 60 s, debited by {@code ProcessContext.recordLlmCall} and reserved by {@code reserveTokens}; 0 disables",
      "0", (p, n) -> p.nonNegativeLong(n, RateLimitConfig.defaults().tokensPerMinute()));

  /** {@code tokens-per-hour}. */
  public static final Setting<Long> TOKENS_PER_HOUR = new Setting<>("tokens-per-hour",
      "in any 3,600 s; 0 disables",
      "0", (p, n) -> p.nonNegativeLong(n, RateLimitConfig.defaults().tokensPerHour()));

  /** {@code tokens-per-day}. */
  public static final Setting<Long> TOKENS_PER_DAY = new Setting<>("tokens-per-day",
      "in any 86,400 s; 0 disables",
      "0", (p, n) -> p.nonNegativeLong(n, RateLimitConfig.defaults().tokensPerDay()));

  /** {@code max-concurrent-requests}. */
  public static final Setting<Integer> MAX_CONCURRENT_REQUESTS = new Setting<>("max-concurrent-requests",
      "requests per user and endpoint running at once (a slot is held until the response completes, at most {@code timeout-seconds}); 0 is unlimited",
      "0", (p, n) -> p.nonNegative(n, RateLimitConfig.defaults().maxConcurrentRequests()));

  /** {@code max-llm-calls}. */
  public static final Setting<Integer> MAX_LLM_CALLS = new Setting<>("max-llm-calls",
      "LLM calls per request",
      "10", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxLlmCalls()));

  /** {@code max-tool-calls}. */
  public static final Setting<Integer> MAX_TOOL_CALLS = new Setting<>("max-tool-calls",
      "tool calls per request",
      "50", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxToolCalls()));

  /** {@code max-agent-hops}. */
  public static final Setting<Integer> MAX_AGENT_HOPS = new Setting<>("max-agent-hops",
      "agent hops per request",
      "21", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxAgentHops()));

  /** {@code max-iterations}. */
  public static final Setting<Integer> MAX_ITERATIONS = new Setting<>("max-iterations",
      "iterations per request",
      "3", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxIterations()));

  /** {@code max-input-tokens}. */
  public static final Setting<Integer> MAX_INPUT_TOKENS = new Setting<>("max-input-tokens",
      "input tokens per LLM call",
      "4096", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxInputTokens()));

  /** {@code max-output-tokens}. */
  public static final Setting<Integer> MAX_OUTPUT_TOKENS = new Setting<>("max-output-tokens",
      "output tokens per LLM call",
      "2048", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxOutputTokens()));

  /** {@code max-context-tokens}. */
  public static final Setting<Integer> MAX_CONTEXT_TOKENS = new Setting<>("max-context-tokens",
      "input plus output tokens per LLM call",
      "16384", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().maxContextTokens()));

  /** {@code timeout-seconds}. */
  public static final Setting<Integer> TIMEOUT_SECONDS = new Setting<>("timeout-seconds",
      "seconds a request's process may run",
      "300", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().timeoutSeconds()));

  /** {@code soft-timeout-seconds}. */
  public static final Setting<Integer> SOFT_TIMEOUT_SECONDS = new Setting<>("soft-timeout-seconds",
      "seconds after which a warning is logged",
      "240", (p, n) -> p.nonNegative(n, ResourceQuota.defaults().softTimeoutSeconds()));

  /** {@code identity-order}. */
  public static final Setting<List<IdentitySource>> IDENTITY_ORDER = new Setting<>("identity-order",
      "comma list of {@code principal}, {@code user-header}, {@code ip}: where the user key comes from, first hit wins",
      "{@code principal,user-header,ip}", HttpSettings::readIdentityOrder);

  /** {@code user-header}. */
  public static final Setting<String> USER_HEADER = new Setting<>("user-header",
      "header with the caller's API key; its value is hashed, never kept. Set it only when keys are verified before this filter (by a gateway or an authentication filter): an unverified key is whatever the client sends, and a client that sends a new one each time gets a new budget each time",
      "none", (p, n) -> p.header(n, null));

  /** {@code trusted-proxies}. */
  public static final Setting<List<Cidr>> TRUSTED_PROXIES = new Setting<>("trusted-proxies",
      "comma list of CIDR blocks or addresses whose forwarding header is believed. A block that covers every address ({@code 0.0.0.0/0}, {@code ::/0}) lets every client choose its own key, and is refused unless {@code trust-any-proxy} is true",
      "none: forwarding headers are ignored", HttpSettings::readTrustedProxies);

  /** {@code trust-any-proxy}. */
  public static final Setting<Boolean> TRUST_ANY_PROXY = new Setting<>("trust-any-proxy",
      "accept a {@code trusted-proxies} block that covers every address (for a deployment that only a proxy can reach); a WARN is logged at startup",
      "false", (p, n) -> p.bool(n, false));

  /** {@code forwarded-header}. */
  public static final Setting<String> FORWARDED_HEADER = new Setting<>("forwarded-header",
      "the forwarding header read from trusted proxies: {@code X-Forwarded-For}, {@code Forwarded} (RFC 7239) or another comma list such as {@code X-Real-IP}",
      "{@code X-Forwarded-For}", (p, n) -> p.header(n, "X-Forwarded-For"));

  /** {@code max-forwarded-hops}. */
  public static final Setting<Integer> MAX_FORWARDED_HOPS = new Setting<>("max-forwarded-hops",
      "the most forwarding entries walked from the right, 1-100",
      "10", (p, n) -> p.inRange(n, 10, 1, 100));

  /** {@code ipv6-prefix-length}. */
  public static final Setting<Integer> IPV6_PREFIX_LENGTH = new Setting<>("ipv6-prefix-length",
      "IPv6 clients are grouped by this prefix, 1-128",
      "56", (p, n) -> p.inRange(n, 56, 1, 128));

  /** {@code endpoint-patterns}. */
  public static final Setting<List<String>> ENDPOINT_PATTERNS = new Setting<>("endpoint-patterns",
      "comma list of patterns that name endpoints, first match wins: {@code /api/users/*} (that path and all below), {@code /api/users/{id}/posts} ({@code {name}}, or {@code *} inside a path, is exactly one segment), optionally prefixed by a method ({@code GET /api/x}). A path that matches none counts against the endpoint {@code default}",
      "none: every path is {@code default}", (p, n) -> p.patterns(n, HttpSettings.CASE_INSENSITIVE_PATHS.read(p)));

  /** {@code exclude-paths}. */
  public static final Setting<List<String>> EXCLUDE_PATHS = new Setting<>("exclude-paths",
      "comma list of patterns (same syntax) that are neither limited nor tracked",
      "none", (p, n) -> p.patterns(n, HttpSettings.CASE_INSENSITIVE_PATHS.read(p)));

  /** {@code case-insensitive-paths}. */
  public static final Setting<Boolean> CASE_INSENSITIVE_PATHS = new Setting<>("case-insensitive-paths",
      "whether paths and patterns are compared ignoring case",
      "false", (p, n) -> p.bool(n, false));

  /** {@code rate-limit-headers}. */
  public static final Setting<RateLimitHeaders.Mode> RATE_LIMIT_HEADERS = new Setting<>("rate-limit-headers",
      "which rate-limit fields a response carries: {@code draft} ({@code RateLimit-Policy} and {@code RateLimit}, draft-ietf-httpapi-ratelimit-headers-10), {@code legacy} ({@code X-RateLimit-Limit/Remaining/Reset}), {@code both}, or {@code none}. A 429 carries {@code Retry-After} (when a wait exists) and its problem body in every mode",
      "{@code draft}", HttpSettings::readRateLimitHeaders);

  /** {@code legacy-headers}. */
  public static final Setting<Boolean> LEGACY_HEADERS = new Setting<>("legacy-headers",
      "older spelling: {@code true} is {@code rate-limit-headers=both}; not together with {@code rate-limit-headers}",
      "false", (p, n) -> p.bool(n, false));

  /** {@code process-id-header}. */
  public static final Setting<String> PROCESS_ID_HEADER = new Setting<>("process-id-header",
      "the response header that carries an admitted request's pid, or {@code none} (then the pid is tracked"
          + " only once the application first uses the request's process, timed from its admission, unless a"
          + " trusted {@code X-Request-Id} is the pid)",
      "{@code X-Process-Id}", HttpSettings::readProcessIdHeader);

  /** {@code max-keys}. */
  public static final Setting<Long> MAX_KEYS = new Setting<>("max-keys",
      "the most (user, endpoint) pairs the limiter holds ({@code RateLimiter.Builder.maximumKeys}), 1 or more; each costs about " + HttpSettings.BYTES_PER_PAIR + " bytes of heap (BENCHMARKS.md), so 1,000,000 is about 245 MiB. Size it to the heap: the startup log states the bound and its estimate. Ignored, with a warning, when the limiter is built elsewhere",
      "1000000", HttpSettings::readMaxKeys);

  /** {@code trust-request-id}. */
  public static final Setting<Boolean> TRUST_REQUEST_ID = new Setting<>("trust-request-id",
      "use a well-formed incoming {@code X-Request-Id} as the pid (it is then echoed in {@code X-Process-Id})",
      "false", (p, n) -> p.bool(n, false));

  /** {@code store}. */
  public static final Setting<StoreSettings> STORE = new Setting<>("store",
      "where the windows are counted: {@code memory} (this process) or {@code redis} (one Redis shared by every instance; needs the artifact {@code dev.controltower:controltower-redis} on the class path). See {@link StoreSettings}; with a shared store {@code max-keys} does not apply",
      "{@code memory}", (p, n) -> StoreSettings.from(p::raw));

  /** {@code redis-uri}. */
  public static final Setting<Void> REDIS_URI = new Setting<>("redis-uri",
      "with {@code store=redis}, required: {@code redis://host:6379}, {@code rediss://...} for TLS, {@code redis://:password@host:6379/0}",
      "none", Setting.readWithStore());

  /** {@code store-timeout}. */
  public static final Setting<Void> STORE_TIMEOUT = new Setting<>("store-timeout",
      "with a shared store: the most a check waits for it, {@code 50}, {@code 50ms} or {@code 2s}",
      "50 ms", Setting.readWithStore());

  /** {@code fail-mode}. */
  public static final Setting<Void> FAIL_MODE = new Setting<>("fail-mode",
      "with a shared store: what a check answers while the store fails: {@code local} (count in this process), {@code open} (admit) or {@code closed} (503 with {@code Retry-After})",
      "{@code local}", Setting.readWithStore());

  /** Every parameter, in the order of the table that {@link #describe()} renders. */
  public static final List<Setting<?>> SETTINGS = List.of(
      REQUESTS_PER_MINUTE,
      REQUESTS_PER_HOUR,
      REQUESTS_PER_DAY,
      BURST_SIZE,
      TOKENS_PER_MINUTE,
      TOKENS_PER_HOUR,
      TOKENS_PER_DAY,
      MAX_CONCURRENT_REQUESTS,
      MAX_LLM_CALLS,
      MAX_TOOL_CALLS,
      MAX_AGENT_HOPS,
      MAX_ITERATIONS,
      MAX_INPUT_TOKENS,
      MAX_OUTPUT_TOKENS,
      MAX_CONTEXT_TOKENS,
      TIMEOUT_SECONDS,
      SOFT_TIMEOUT_SECONDS,
      IDENTITY_ORDER,
      USER_HEADER,
      TRUSTED_PROXIES,
      TRUST_ANY_PROXY,
      FORWARDED_HEADER,
      MAX_FORWARDED_HOPS,
      IPV6_PREFIX_LENGTH,
      ENDPOINT_PATTERNS,
      EXCLUDE_PATHS,
      CASE_INSENSITIVE_PATHS,
      RATE_LIMIT_HEADERS,
      LEGACY_HEADERS,
      PROCESS_ID_HEADER,
      MAX_KEYS,
      TRUST_REQUEST_ID,
      STORE,
      REDIS_URI,
      STORE_TIMEOUT,
      FAIL_MODE);

  /** Every parameter name, in the order of {@link #SETTINGS}. */
  public static final List<String> PARAMETERS = SETTINGS.stream().map(Setting::name).toList();

  private static final HttpSettings DEFAULTS = new HttpSettings(RateLimitConfig.defaults(), ResourceQuota.defaults(),
      List.of(IdentitySource.PRINCIPAL, IdentitySource.USER_HEADER, IdentitySource.IP), null, List.of(),
      "X-Forwarded-For", 10, 56, List.of(), List.of(), false, false, false, RateLimitHeaders.Mode.DRAFT,
      HttpAttributes.PROCESS_ID_HEADER, DEFAULT_MAX_KEYS);

  /**
   * Validates and copies the fields.
   *
   * @throws IllegalArgumentException if a value is out of range, a header name is not a token, a
   *     pattern does not parse, or a trusted-proxy block covers every address without
   *     {@code trustAnyProxy}
   * @throws NullPointerException if a field other than {@code userHeader} or {@code processIdHeader} is
   *     null
   */
  public HttpSettings {
    Objects.requireNonNull(rateLimit, "rateLimit must not be null");
    Objects.requireNonNull(quota, "quota must not be null");
    identityOrder = List.copyOf(Objects.requireNonNull(identityOrder, "identityOrder must not be null"));
    if (identityOrder.isEmpty() || Set.copyOf(identityOrder).size() != identityOrder.size()) {
      throw new IllegalArgumentException("identityOrder must be non-empty without repeats but was " + identityOrder);
    }
    if (userHeader != null && !isToken(userHeader)) {
      throw new IllegalArgumentException("userHeader must be a header name but was '" + LogText.text(userHeader) + "'");
    }
    trustedProxies = List.copyOf(Objects.requireNonNull(trustedProxies, "trustedProxies must not be null"));
    Cidr everything = coveringEverything(trustedProxies);
    if (everything != null && !trustAnyProxy) {
      throw new IllegalArgumentException("trustedProxies must not cover every address without trustAnyProxy, but had "
          + everything + ": every client could then choose its own key through the forwarding header");
    }
    Objects.requireNonNull(rateLimitHeaders, "rateLimitHeaders must not be null");
    if (processIdHeader != null && !isToken(processIdHeader)) {
      throw new IllegalArgumentException(
          "processIdHeader must be a header name but was '" + LogText.text(processIdHeader) + "'");
    }
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys must be >= 1 but was " + maxKeys);
    }
    Objects.requireNonNull(store, "store must not be null");
    Objects.requireNonNull(forwardedHeader, "forwardedHeader must not be null");
    if (!isToken(forwardedHeader)) {
      throw new IllegalArgumentException(
          "forwardedHeader must be a header name but was '" + LogText.text(forwardedHeader) + "'");
    }
    if (maxForwardedHops < 1 || maxForwardedHops > 100) {
      throw new IllegalArgumentException("maxForwardedHops must be in [1, 100] but was " + maxForwardedHops);
    }
    if (ipv6PrefixLength < 1 || ipv6PrefixLength > 128) {
      throw new IllegalArgumentException("ipv6PrefixLength must be in [1, 128] but was " + ipv6PrefixLength);
    }
    endpointPatterns = List.copyOf(Objects.requireNonNull(endpointPatterns, "endpointPatterns must not be null"));
    excludePaths = List.copyOf(Objects.requireNonNull(excludePaths, "excludePaths must not be null"));
    for (String p : endpointPatterns) {
      PathPattern.compile("endpointPatterns", p, caseInsensitivePaths);
    }
    for (String p : excludePaths) {
      PathPattern.compile("excludePaths", p, caseInsensitivePaths);
    }
  }

  /** The settings with the in-process store ({@code store=memory}). */
  public HttpSettings(RateLimitConfig rateLimit, ResourceQuota quota, List<IdentitySource> identityOrder,
      String userHeader, List<Cidr> trustedProxies, String forwardedHeader, int maxForwardedHops,
      int ipv6PrefixLength, List<String> endpointPatterns, List<String> excludePaths,
      boolean caseInsensitivePaths, boolean trustRequestId, boolean trustAnyProxy,
      RateLimitHeaders.Mode rateLimitHeaders, String processIdHeader, long maxKeys) {
    this(rateLimit, quota, identityOrder, userHeader, trustedProxies, forwardedHeader, maxForwardedHops,
        ipv6PrefixLength, endpointPatterns, excludePaths, caseInsensitivePaths, trustRequestId, trustAnyProxy,
        rateLimitHeaders, processIdHeader, maxKeys, StoreSettings.memory());
  }

  /** Whether a block of the list covers every address of its family ({@code 0.0.0.0/0}, {@code ::/0}). */
  public static boolean coversEveryAddress(List<Cidr> blocks) {
    return coveringEverything(blocks) != null;
  }

  /** The first block that covers every address of its family ({@code /0}), or null. */
  static Cidr coveringEverything(List<Cidr> blocks) {
    for (Cidr c : blocks) {
      if (c.prefixLength() == 0) {
        return c;
      }
    }
    return null;
  }

  /**
   * A limiter with these settings' default limits ({@link #rateLimit()}), counting in {@link #store()}:
   * in memory bounded by {@link #maxKeys()}, or in a new store of the store's provider, found through
   * the thread's context class loader. Such a store is closed by {@link #closeStore}.
   *
   * @throws IllegalArgumentException naming the setting and the value when the store's provider refuses
   *     one, or naming the artifact to add when it is not on the class path
   */
  public RateLimiter newRateLimiter() {
    return newRateLimiter(null);
  }

  /**
   * Closes the store underneath a limiter that {@link #newRateLimiter()} built on a shared store (its
   * connection and threads); does nothing for an in-memory one.
   */
  public static void closeStore(RateLimiter limiter) {
    if (limiter instanceof dev.controltower.resources.internal.PolicyRateLimiter p) {
      p.store().close(); // a no-op for the in-memory store
    }
  }

  /**
   * Like {@link #newRateLimiter()}, reporting to {@code listener} (see
   * {@link RateLimiter.Builder#listener}).
   *
   * @param listener the listener, or null for none
   */
  public RateLimiter newRateLimiter(dev.controltower.spi.ControlTowerListener listener) {
    RateLimiter.Builder b = RateLimiter.builder().defaultConfig(rateLimit);
    if (listener != null) {
      b.listener(listener);
    }
    if (store.isMemory()) {
      return b.maximumKeys(maxKeys).build();
    }
    // The store reports its own events (fallbacks, breaker, latency) to the same listener.
    WindowStore windows = store.newStore(Thread.currentThread().getContextClassLoader(), LIMITER_BUCKETS,
        listener == null ? dev.controltower.spi.ControlTowerListener.NOOP : listener);
    return b.bucketCount(LIMITER_BUCKETS).store(windows).build();
  }

  /**
   * The limiter bound for a startup log line: {@code max-keys 200000 (about 49 MB of heap at 257 bytes
   * per pair)}.
   */
  public String memoryBound() {
    long bytes = maxKeys * BYTES_PER_PAIR;
    String heap = bytes >= 10L << 20 ? (bytes >> 20) + " MB" : (bytes >> 10) + " KB";
    return "max-keys " + maxKeys + " (about " + heap + " of heap at " + BYTES_PER_PAIR + " bytes per pair)";
  }

  /** Every parameter at its default (see the class comment). */
  public static HttpSettings defaults() {
    return DEFAULTS;
  }

  /**
   * Parses parameters from a map, refusing names it does not know (so that a typo such as
   * {@code request-per-minute} fails instead of being ignored).
   *
   * @throws IllegalArgumentException naming the parameter and the value when one does not parse, or
   *     naming the unknown parameters
   */
  public static HttpSettings fromMap(Map<String, String> parameters) {
    Objects.requireNonNull(parameters, "parameters must not be null");
    Set<String> unknown = new TreeSet<>(parameters.keySet());
    unknown.removeAll(PARAMETERS);
    if (!unknown.isEmpty()) {
      List<String> safe = new ArrayList<>();
      unknown.forEach(u -> safe.add(LogText.text(u)));
      throw new IllegalArgumentException("unknown parameter(s) " + safe + "; known parameters are " + PARAMETERS);
    }
    return from(parameters::get);
  }

  /**
   * Parses parameters looked up by name; a {@code null} answer means the parameter is absent. Names
   * the function does not know are simply never asked for.
   *
   * @throws IllegalArgumentException naming the parameter and the value when one does not parse
   */
  public static HttpSettings from(Function<String, String> parameters) {
    Objects.requireNonNull(parameters, "parameters must not be null");
    Parser p = new Parser(parameters);
    RateLimitConfig rate = new RateLimitConfig(REQUESTS_PER_MINUTE.read(p), REQUESTS_PER_HOUR.read(p),
        REQUESTS_PER_DAY.read(p), BURST_SIZE.read(p), TOKENS_PER_MINUTE.read(p), TOKENS_PER_HOUR.read(p),
        TOKENS_PER_DAY.read(p), MAX_CONCURRENT_REQUESTS.read(p));
    ResourceQuota quota = new ResourceQuota(MAX_INPUT_TOKENS.read(p), MAX_OUTPUT_TOKENS.read(p),
        MAX_CONTEXT_TOKENS.read(p), MAX_LLM_CALLS.read(p), MAX_TOOL_CALLS.read(p), MAX_AGENT_HOPS.read(p),
        MAX_ITERATIONS.read(p), TIMEOUT_SECONDS.read(p), SOFT_TIMEOUT_SECONDS.read(p), null);
    List<Cidr> proxies = TRUSTED_PROXIES.read(p);
    boolean trustAnyProxy = TRUST_ANY_PROXY.read(p);
    Cidr everything = coveringEverything(proxies);
    if (everything != null && !trustAnyProxy) {
      throw new IllegalArgumentException("trusted-proxies covers every address with " + everything + " in '"
          + LogText.text(p.raw("trusted-proxies")) + "': every client could then choose its own key through the"
          + " forwarding header. List the proxies' own addresses, or set trust-any-proxy=true if only a proxy"
          + " can reach this server");
    }
    return new HttpSettings(rate, quota, IDENTITY_ORDER.read(p), USER_HEADER.read(p), proxies,
        FORWARDED_HEADER.read(p), MAX_FORWARDED_HOPS.read(p), IPV6_PREFIX_LENGTH.read(p), ENDPOINT_PATTERNS.read(p),
        EXCLUDE_PATHS.read(p), CASE_INSENSITIVE_PATHS.read(p), TRUST_REQUEST_ID.read(p), trustAnyProxy,
        RATE_LIMIT_HEADERS.read(p), PROCESS_ID_HEADER.read(p), MAX_KEYS.read(p), STORE.read(p));
  }

  private static List<IdentitySource> readIdentityOrder(Parser p, String name) {
    if (p.raw(name) == null) {
      return List.of(IdentitySource.PRINCIPAL, IdentitySource.USER_HEADER, IdentitySource.IP);
    }
    List<IdentitySource> order = new ArrayList<>();
    for (String item : p.list(name)) {
      IdentitySource s = IdentitySource.fromParameter(item);
      if (s == null || order.contains(s)) {
        throw p.invalid(name, "a comma list of distinct principal, user-header, ip");
      }
      order.add(s);
    }
    if (order.isEmpty()) {
      throw p.invalid(name, "a comma list of distinct principal, user-header, ip");
    }
    return order;
  }

  private static List<Cidr> readTrustedProxies(Parser p, String name) {
    List<Cidr> proxies = new ArrayList<>();
    for (String item : p.list(name)) {
      try {
        proxies.add(Cidr.parse(item));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(name + " must be a comma list of CIDR blocks or IP addresses"
            + " but had '" + LogText.text(item) + "' in '" + LogText.text(p.raw(name)) + "'", e);
      }
    }
    return proxies;
  }

  private static RateLimitHeaders.Mode readRateLimitHeaders(Parser p, String name) {
    String modeText = p.raw(name);
    if (modeText == null) {
      return LEGACY_HEADERS.read(p) ? RateLimitHeaders.Mode.BOTH : RateLimitHeaders.Mode.DRAFT;
    }
    if (p.raw(LEGACY_HEADERS.name()) != null) {
      throw new IllegalArgumentException("legacy-headers and rate-limit-headers must not both be set, but were '"
          + LogText.text(p.raw(LEGACY_HEADERS.name())) + "' and '" + LogText.text(modeText)
          + "'; use rate-limit-headers alone (legacy-headers=true is rate-limit-headers=both)");
    }
    RateLimitHeaders.Mode mode = RateLimitHeaders.Mode.fromParameter(modeText.strip());
    if (mode == null) {
      throw p.invalid(name, "one of draft, legacy, both, none");
    }
    return mode;
  }

  private static String readProcessIdHeader(Parser p, String name) {
    String pidText = p.raw(name);
    if (pidText == null) {
      return HttpAttributes.PROCESS_ID_HEADER;
    }
    String pidHeader = pidText.strip().equalsIgnoreCase("none") ? null : p.header(name, null);
    if (pidText.isBlank()) {
      throw p.invalid(name, "a header name or none");
    }
    return pidHeader;
  }

  private static Long readMaxKeys(Parser p, String name) {
    String maxKeysText = p.raw(name);
    if (maxKeysText == null) {
      return DEFAULT_MAX_KEYS;
    }
    String m = maxKeysText.strip().replace("_", "");
    if (!m.matches("[0-9]{1,18}") || Long.parseLong(m) < 1) {
      throw p.invalid(name, "a whole number >= 1 (pairs the limiter holds)");
    }
    return Long.parseLong(m);
  }

  /**
   * The parameters as a Markdown table (name, meaning, default), from {@link #SETTINGS}: what the
   * adapters' READMEs show.
   */
  public static String describe() {
    StringBuilder out = new StringBuilder("| parameter | meaning | default |\n|---|---|---|\n");
    for (Setting<?> s : SETTINGS) {
      out.append("| `").append(s.name()).append("` | ").append(markdown(s.meaning())).append(" | ")
          .append(markdown(s.defaultText())).append(" |\n");
    }
    return out.toString();
  }

  /** Javadoc's inline {@code {@code x}} (braces inside balanced) as Markdown code; table pipes escaped. */
  private static String markdown(String javadoc) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < javadoc.length()) {
      int tag = javadoc.indexOf("{@", i);
      if (tag < 0) {
        out.append(javadoc, i, javadoc.length());
        break;
      }
      out.append(javadoc, i, tag);
      int space = javadoc.indexOf(' ', tag);
      int depth = 1;
      int j = space + 1;
      while (j < javadoc.length() && depth > 0) {
        char c = javadoc.charAt(j);
        depth += c == '{' ? 1 : c == '}' ? -1 : 0;
        j++;
      }
      out.append('`').append(javadoc, space + 1, j - 1).append('`');
      i = j;
    }
    return out.toString().replace("|", "\\|");
  }

  /**
   * One parameter of the adapters: its kebab-case name, what it means, its default (both as text for
   * people, with Javadoc's inline tags), and how it is read. Immutable.
   *
   * @param <T> the type it is read as
   */
  public static final class Setting<T> {
    private final String name;
    private final String meaning;
    private final String defaultText;
    private final BiFunction<Parser, String, T> reader;

    private Setting(String name, String meaning, String defaultText, BiFunction<Parser, String, T> reader) {
      this.name = name;
      this.meaning = meaning;
      this.defaultText = defaultText;
      this.reader = reader;
    }

    /** For the shared store's options, which {@link #STORE} reads together ({@link StoreSettings}). */
    private static BiFunction<Parser, String, Void> readWithStore() {
      return (p, n) -> null;
    }

    /** The parameter's name, such as {@code requests-per-minute}. */
    public String name() {
      return name;
    }

    /** What it means, for people. */
    public String meaning() {
      return meaning;
    }

    /** Its default, for people. */
    public String defaultText() {
      return defaultText;
    }

    T read(Parser p) {
      return reader.apply(p, name);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** Whether {@code name} is an HTTP token (RFC 9110), as header names must be. */
  static boolean isToken(String name) {
    if (name.isEmpty() || name.length() > 256) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Reads one kind of value per method; every error names the parameter and the value. */
  static final class Parser {
    private final Function<String, String> source;

    Parser(Function<String, String> source) {
      this.source = source;
    }

    String raw(String name) {
      return source.apply(name);
    }

    IllegalArgumentException invalid(String name, String rule) {
      return new IllegalArgumentException(
          name + " must be " + rule + " but was '" + LogText.text(raw(name)) + "'");
    }

    int nonNegative(String name, int dflt) {
      return inRange(name, dflt, 0, Integer.MAX_VALUE);
    }

    long nonNegativeLong(String name, long dflt) {
      String text = raw(name);
      if (text == null) {
        return dflt;
      }
      String s = text.strip().replace("_", "");
      if (!s.matches("-?[0-9]{1,18}")) {
        throw invalid(name, "a whole number >= 0");
      }
      long value = Long.parseLong(s);
      if (value < 0) {
        throw new IllegalArgumentException(name + " must be >= 0 but was " + value);
      }
      return value;
    }

    int inRange(String name, int dflt, int min, int max) {
      String text = raw(name);
      if (text == null) {
        return dflt;
      }
      String s = text.strip();
      String rule = max == Integer.MAX_VALUE ? "a whole number >= " + min : "a whole number in [" + min + ", " + max + "]";
      if (!s.matches("-?[0-9]{1,10}")) {
        throw invalid(name, rule);
      }
      long value = Long.parseLong(s);
      if (value < min || value > max) {
        throw new IllegalArgumentException(name + " must be " + (max == Integer.MAX_VALUE ? ">= " + min
            : "in [" + min + ", " + max + "]") + " but was " + value);
      }
      return (int) value;
    }

    boolean bool(String name, boolean dflt) {
      String text = raw(name);
      if (text == null) {
        return dflt;
      }
      String s = text.strip();
      if (s.equalsIgnoreCase("true")) {
        return true;
      }
      if (s.equalsIgnoreCase("false")) {
        return false;
      }
      throw invalid(name, "true or false");
    }

    String header(String name, String dflt) {
      String text = raw(name);
      if (text == null) {
        return dflt;
      }
      String s = text.strip();
      if (s.isEmpty() && dflt == null) {
        return null;
      }
      if (!isToken(s)) {
        throw invalid(name, "a header name");
      }
      return s;
    }

    /** Items separated by commas or line breaks, stripped, empty ones dropped. */
    List<String> list(String name) {
      String text = raw(name);
      List<String> out = new ArrayList<>();
      if (text == null) {
        return out;
      }
      for (String item : text.split("[,\\r\\n]")) {
        String s = item.strip();
        if (!s.isEmpty()) {
          out.add(s);
        }
      }
      return out;
    }

    List<String> patterns(String name, boolean caseInsensitive) {
      List<String> out = list(name);
      for (String item : out) {
        try {
          PathPattern.compile(name, item, caseInsensitive);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(e.getMessage() + " in " + name + "='" + LogText.text(raw(name)) + "'", e);
        }
      }
      return out;
    }
  }
}
