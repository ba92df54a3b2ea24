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
import java.util.function.Function;

/**
 * Everything the HTTP adapters ({@code RateLimitFilter}, {@code QuotaInterceptor}) can be configured
 * with, parsed from kebab-case parameters: servlet {@code <init-param>}s or JAX-RS properties. Immutable
 * and thread-safe.
 *
 * <p>Parameters, their meaning and defaults (a missing parameter takes its default; a present one
 * that does not parse is an error that names the parameter and the value, never a silent default):
 *
 * <table>
 *   <caption>Parameters</caption>
 *   <tr><th>parameter</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code requests-per-minute}</td><td>requests per user and endpoint in any 60 s; 0 disables</td><td>60</td></tr>
 *   <tr><td>{@code requests-per-hour}</td><td>in any 3,600 s; 0 disables</td><td>1000</td></tr>
 *   <tr><td>{@code requests-per-day}</td><td>in any 86,400 s; 0 disables</td><td>10000</td></tr>
 *   <tr><td>{@code burst-size}</td><td>in any 1 s; 0 disables</td><td>0</td></tr>
 *   <tr><td>{@code tokens-per-minute}</td><td>LLM tokens per user and endpoint in any 60 s, debited by
 *       {@code ProcessContext.recordLlmCall} and reserved by {@code reserveTokens}; 0 disables</td><td>0</td></tr>
 *   <tr><td>{@code tokens-per-hour}</td><td>in any 3,600 s; 0 disables</td><td>0</td></tr>
 *   <tr><td>{@code tokens-per-day}</td><td>in any 86,400 s; 0 disables</td><td>0</td></tr>
 *   <tr><td>{@code max-concurrent-requests}</td><td>requests per user and endpoint running at once (a
 *       slot is held until the response completes, at most {@code timeout-seconds}); 0 is
 *       unlimited</td><td>0</td></tr>
 *   <tr><td>{@code max-llm-calls}</td><td>LLM calls per request</td><td>10</td></tr>
 *   <tr><td>{@code max-tool-calls}</td><td>tool calls per request</td><td>50</td></tr>
 *   <tr><td>{@code max-agent-hops}</td><td>agent hops per request</td><td>21</td></tr>
 *   <tr><td>{@code max-iterations}</td><td>iterations per request</td><td>3</td></tr>
 *   <tr><td>{@code max-input-tokens}</td><td>input tokens per LLM call</td><td>4096</td></tr>
 *   <tr><td>{@code max-output-tokens}</td><td>output tokens per LLM call</td><td>2048</td></tr>
 *   <tr><td>{@code max-context-tokens}</td><td>input plus output tokens per LLM call</td><td>16384</td></tr>
 *   <tr><td>{@code timeout-seconds}</td><td>seconds a request's process may run</td><td>300</td></tr>
 *   <tr><td>{@code soft-timeout-seconds}</td><td>seconds after which a warning is logged</td><td>240</td></tr>
 *   <tr><td>{@code identity-order}</td><td>comma list of {@code principal}, {@code user-header}, {@code ip}:
 *       where the user key comes from, first hit wins</td><td>{@code principal,user-header,ip}</td></tr>
 *   <tr><td>{@code user-header}</td><td>header with the caller's API key; its value is hashed, never
 *       kept. Set it only when keys are verified before this filter (by a gateway or an authentication
 *       filter): an unverified key is whatever the client sends, and a client that sends a new one each
 *       time gets a new budget each time</td><td>none</td></tr>
 *   <tr><td>{@code trusted-proxies}</td><td>comma list of CIDR blocks or addresses whose forwarding
 *       header is believed. A block that covers every address ({@code 0.0.0.0/0}, {@code ::/0}) lets
 *       every client choose its own key, and is refused unless {@code trust-any-proxy} is
 *       true</td><td>none: forwarding headers are ignored</td></tr>
 *   <tr><td>{@code trust-any-proxy}</td><td>accept a {@code trusted-proxies} block that covers every
 *       address (for a deployment that only a proxy can reach); a WARN is logged at startup</td><td>false</td></tr>
 *   <tr><td>{@code forwarded-header}</td><td>the forwarding header read from trusted proxies:
 *       {@code X-Forwarded-For}, {@code Forwarded} (RFC 7239) or another comma list such as
 *       {@code X-Real-IP}</td><td>{@code X-Forwarded-For}</td></tr>
 *   <tr><td>{@code max-forwarded-hops}</td><td>the most forwarding entries walked from the right, 1-100</td><td>10</td></tr>
 *   <tr><td>{@code ipv6-prefix-length}</td><td>IPv6 clients are grouped by this prefix, 1-128</td><td>56</td></tr>
 *   <tr><td>{@code endpoint-patterns}</td><td>comma list of patterns that name endpoints, first match wins:
 *       {@code /api/users/*} (that path and all below), {@code /api/users/{id}/posts}
 *       ({@code {name}}, or {@code *} inside a path, is exactly one segment), optionally prefixed by a method
 *       ({@code GET /api/x}). A path that matches none counts against the endpoint
 *       {@code default}</td><td>none: every path is {@code default}</td></tr>
 *   <tr><td>{@code exclude-paths}</td><td>comma list of patterns (same syntax) that are neither limited
 *       nor tracked</td><td>none</td></tr>
 *   <tr><td>{@code case-insensitive-paths}</td><td>whether paths and patterns are compared ignoring
 *       case</td><td>false</td></tr>
 *   <tr><td>{@code rate-limit-headers}</td><td>which rate-limit fields a response carries:
 *       {@code draft} ({@code RateLimit-Policy} and {@code RateLimit}, draft-ietf-httpapi-ratelimit-headers-10),
 *       {@code legacy} ({@code X-RateLimit-Limit/Remaining/Reset}), {@code both}, or {@code none}. A 429
 *       carries {@code Retry-After} (when a wait exists) and its problem body in every
 *       mode</td><td>{@code draft}</td></tr>
 *   <tr><td>{@code legacy-headers}</td><td>older spelling: {@code true} is {@code rate-limit-headers=both};
 *       not together with {@code rate-limit-headers}</td><td>false</td></tr>
 *   <tr><td>{@code process-id-header}</td><td>the response header that carries an admitted request's
 *       pid, or {@code none}</td><td>{@code X-Process-Id}</td></tr>
 *   <tr><td>{@code max-keys}</td><td>the most (user, endpoint) pairs the limiter holds
 *       ({@code RateLimiter.Builder.maximumKeys}), 1 or more; each costs about {@value #BYTES_PER_PAIR}
 *       bytes of heap (BENCHMARKS.md), so 1,000,000 is about 241 MB. Size it to the heap: the startup
 *       log states the bound and its estimate. Ignored, with a warning, when the limiter is built
 *       elsewhere</td><td>1000000</td></tr>
 *   <tr><td>{@code trust-request-id}</td><td>use a well-formed incoming {@code X-Request-Id} as the pid
 *       (it is then echoed in {@code X-Process-Id})</td><td>false</td></tr>
 *   <tr><td>{@code store}</td><td>where the windows are counted: {@code memory} (this process) or
 *       {@code redis} (one Redis shared by every instance; needs the artifact
 *       {@code dev.controltower:controltower-redis} on the class path). See {@link StoreSettings}; with a
 *       shared store {@code max-keys} does not apply</td><td>{@code memory}</td></tr>
 *   <tr><td>{@code redis-uri}</td><td>with {@code store=redis}, required: {@code redis://host:6379},
 *       {@code rediss://...} for TLS, {@code redis://:password@host:6379/0}</td><td>none</td></tr>
 *   <tr><td>{@code store-timeout}</td><td>with a shared store: the most a check waits for it, {@code 50},
 *       {@code 50ms} or {@code 2s}</td><td>50 ms</td></tr>
 *   <tr><td>{@code fail-mode}</td><td>with a shared store: what a check answers while the store fails:
 *       {@code local} (count in this process), {@code open} (admit) or {@code closed} (503 with
 *       {@code Retry-After})</td><td>{@code local}</td></tr>
 * </table>
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
   * one check per pair, 241.1 B); the startup log's estimate for {@code max-keys} uses it.
   */
  public static final int BYTES_PER_PAIR = 241;
  /** The limiter's own default bound, {@code max-keys} when unset. */
  public static final long DEFAULT_MAX_KEYS = 1_000_000L;
  /** The bucket count of the limiters {@link #newRateLimiter()} builds (the limiter's default). */
  private static final int LIMITER_BUCKETS = 10;

  /** Every parameter name, in the order of the table above. */
  public static final List<String> PARAMETERS = List.of(
      "requests-per-minute", "requests-per-hour", "requests-per-day", "burst-size",
      "tokens-per-minute", "tokens-per-hour", "tokens-per-day", "max-concurrent-requests",
      "max-llm-calls", "max-tool-calls", "max-agent-hops", "max-iterations",
      "max-input-tokens", "max-output-tokens", "max-context-tokens", "timeout-seconds", "soft-timeout-seconds",
      "identity-order", "user-header", "trusted-proxies", "forwarded-header", "max-forwarded-hops",
      "ipv6-prefix-length", "endpoint-patterns", "exclude-paths", "case-insensitive-paths",
      "legacy-headers", "trust-request-id", "trust-any-proxy", "rate-limit-headers", "process-id-header",
      "max-keys", "store", "redis-uri", "store-timeout", "fail-mode");

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
    WindowStore windows = store.newStore(Thread.currentThread().getContextClassLoader(), LIMITER_BUCKETS);
    return b.bucketCount(LIMITER_BUCKETS).store(windows).build();
  }

  /**
   * The limiter bound for a startup log line: {@code max-keys 200000 (about 48 MB of heap at 241 bytes
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
    RateLimitConfig d = RateLimitConfig.defaults();
    RateLimitConfig rate = new RateLimitConfig(
        p.nonNegative("requests-per-minute", d.requestsPerMinute()),
        p.nonNegative("requests-per-hour", d.requestsPerHour()),
        p.nonNegative("requests-per-day", d.requestsPerDay()),
        p.nonNegative("burst-size", d.burstSize()),
        p.nonNegativeLong("tokens-per-minute", d.tokensPerMinute()),
        p.nonNegativeLong("tokens-per-hour", d.tokensPerHour()),
        p.nonNegativeLong("tokens-per-day", d.tokensPerDay()),
        p.nonNegative("max-concurrent-requests", d.maxConcurrentRequests()));
    ResourceQuota q = ResourceQuota.defaults();
    ResourceQuota quota = new ResourceQuota(
        p.nonNegative("max-input-tokens", q.maxInputTokens()),
        p.nonNegative("max-output-tokens", q.maxOutputTokens()),
        p.nonNegative("max-context-tokens", q.maxContextTokens()),
        p.nonNegative("max-llm-calls", q.maxLlmCalls()),
        p.nonNegative("max-tool-calls", q.maxToolCalls()),
        p.nonNegative("max-agent-hops", q.maxAgentHops()),
        p.nonNegative("max-iterations", q.maxIterations()),
        p.nonNegative("timeout-seconds", q.timeoutSeconds()),
        p.nonNegative("soft-timeout-seconds", q.softTimeoutSeconds()),
        null);
    List<IdentitySource> order = DEFAULTS.identityOrder;
    String orderText = p.raw("identity-order");
    if (orderText != null) {
      order = new ArrayList<>();
      for (String item : p.list("identity-order")) {
        IdentitySource s = IdentitySource.fromParameter(item);
        if (s == null || order.contains(s)) {
          throw p.invalid("identity-order", "a comma list of distinct principal, user-header, ip");
        }
        order.add(s);
      }
      if (order.isEmpty()) {
        throw p.invalid("identity-order", "a comma list of distinct principal, user-header, ip");
      }
    }
    String userHeader = p.header("user-header", null);
    List<Cidr> proxies = new ArrayList<>();
    for (String item : p.list("trusted-proxies")) {
      try {
        proxies.add(Cidr.parse(item));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("trusted-proxies must be a comma list of CIDR blocks or IP addresses"
            + " but had '" + LogText.text(item) + "' in '" + LogText.text(p.raw("trusted-proxies")) + "'", e);
      }
    }
    boolean trustAnyProxy = p.bool("trust-any-proxy", false);
    Cidr everything = coveringEverything(proxies);
    if (everything != null && !trustAnyProxy) {
      throw new IllegalArgumentException("trusted-proxies covers every address with " + everything + " in '"
          + LogText.text(p.raw("trusted-proxies")) + "': every client could then choose its own key through the"
          + " forwarding header. List the proxies' own addresses, or set trust-any-proxy=true if only a proxy"
          + " can reach this server");
    }
    String forwardedHeader = p.header("forwarded-header", DEFAULTS.forwardedHeader);
    int hops = p.inRange("max-forwarded-hops", DEFAULTS.maxForwardedHops, 1, 100);
    int v6 = p.inRange("ipv6-prefix-length", DEFAULTS.ipv6PrefixLength, 1, 128);
    boolean caseInsensitive = p.bool("case-insensitive-paths", false);
    List<String> patterns = p.patterns("endpoint-patterns", caseInsensitive);
    List<String> excludes = p.patterns("exclude-paths", caseInsensitive);
    RateLimitHeaders.Mode mode = RateLimitHeaders.Mode.DRAFT;
    String modeText = p.raw("rate-limit-headers");
    if (modeText != null) {
      if (p.raw("legacy-headers") != null) {
        throw new IllegalArgumentException("legacy-headers and rate-limit-headers must not both be set, but were '"
            + LogText.text(p.raw("legacy-headers")) + "' and '" + LogText.text(modeText)
            + "'; use rate-limit-headers alone (legacy-headers=true is rate-limit-headers=both)");
      }
      mode = RateLimitHeaders.Mode.fromParameter(modeText.strip());
      if (mode == null) {
        throw p.invalid("rate-limit-headers", "one of draft, legacy, both, none");
      }
    } else if (p.bool("legacy-headers", false)) {
      mode = RateLimitHeaders.Mode.BOTH;
    }
    String pidHeader = DEFAULTS.processIdHeader;
    String pidText = p.raw("process-id-header");
    if (pidText != null) {
      pidHeader = pidText.strip().equalsIgnoreCase("none") ? null : p.header("process-id-header", null);
      if (pidText.isBlank()) {
        throw p.invalid("process-id-header", "a header name or none");
      }
    }
    long maxKeys = DEFAULT_MAX_KEYS;
    String maxKeysText = p.raw("max-keys");
    if (maxKeysText != null) {
      String m = maxKeysText.strip().replace("_", "");
      if (!m.matches("[0-9]{1,18}") || Long.parseLong(m) < 1) {
        throw p.invalid("max-keys", "a whole number >= 1 (pairs the limiter holds)");
      }
      maxKeys = Long.parseLong(m);
    }
    return new HttpSettings(rate, quota, order, userHeader, proxies, forwardedHeader, hops, v6, patterns, excludes,
        caseInsensitive, p.bool("trust-request-id", false), trustAnyProxy, mode, pidHeader, maxKeys,
        StoreSettings.from(p::raw));
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
  private static final class Parser {
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
