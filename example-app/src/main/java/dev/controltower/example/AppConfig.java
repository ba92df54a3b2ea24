package dev.controltower.example;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The example app's settings. Each comes from a command-line option ({@code --port=8080}), else an
 * environment variable ({@code CONTROLTOWER_PORT}), else its default. A bad value stops startup with a
 * message naming the setting and the value.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>option</th><th>environment</th><th>default</th></tr>
 *   <tr><td>{@code --port}</td><td>{@code CONTROLTOWER_PORT}</td><td>8080 (0 picks a free port)</td></tr>
 *   <tr><td>{@code --host}</td><td>{@code CONTROLTOWER_HOST}</td><td>127.0.0.1</td></tr>
 *   <tr><td>{@code --admin-token}</td><td>{@code CONTROLTOWER_ADMIN_TOKEN}</td><td>random, printed at startup
 *       (a configured token is never printed; an empty or blank one is refused)</td></tr>
 *   <tr><td>{@code --requests-per-minute}</td><td>{@code CONTROLTOWER_REQUESTS_PER_MINUTE}</td><td>30</td></tr>
 *   <tr><td>{@code --hello-per-minute}</td><td>{@code CONTROLTOWER_HELLO_PER_MINUTE}</td><td>5</td></tr>
 *   <tr><td>{@code --max-llm-calls}</td><td>{@code CONTROLTOWER_MAX_LLM_CALLS}</td><td>10</td></tr>
 *   <tr><td>{@code --llm-latency-ms}</td><td>{@code CONTROLTOWER_LLM_LATENCY_MS}</td><td>0 (the fake LLM's delay)</td></tr>
 *   <tr><td>{@code --tokens-per-minute}</td><td>{@code CONTROLTOWER_TOKENS_PER_MINUTE}</td><td>20000 (LLM tokens
 *       per user per minute on {@code /api/agent/run}; 0 turns the token budget off)</td></tr>
 *   <tr><td>{@code --max-concurrent-runs}</td><td>{@code CONTROLTOWER_MAX_CONCURRENT_RUNS}</td><td>2 (agent runs
 *       of one user at once on {@code /api/agent/run}; 0 = unlimited)</td></tr>
 *   <tr><td>{@code --store}</td><td>{@code CONTROLTOWER_STORE}</td><td>{@code memory}; {@code redis} shares the
 *       limits with every instance on the same Redis</td></tr>
 *   <tr><td>{@code --redis-uri}</td><td>{@code CONTROLTOWER_REDIS_URI}</td><td>none; required with
 *       {@code --store=redis}, such as {@code redis://127.0.0.1:6379}</td></tr>
 *   <tr><td>{@code --store-timeout}</td><td>{@code CONTROLTOWER_STORE_TIMEOUT}</td><td>50 ms (with
 *       {@code redis}: {@code 50}, {@code 50ms}, {@code 2s})</td></tr>
 *   <tr><td>{@code --fail-mode}</td><td>{@code CONTROLTOWER_FAIL_MODE}</td><td>{@code local} (with
 *       {@code redis}: {@code local}, {@code open} or {@code closed})</td></tr>
 * </table>
 *
 * @param host the address to listen on
 * @param port the port, 0..65535
 * @param adminToken the token the admin endpoints require, at least 16 characters
 * @param adminTokenGenerated whether the token was generated (and must be printed)
 * @param requestsPerMinute the default per-user, per-endpoint minute limit
 * @param helloPerMinute the minute limit of the {@code /api/hello} demo endpoint
 * @param maxLlmCalls LLM calls allowed per request
 * @param llmLatencyMillis how long each fake LLM call takes by default
 * @param store {@code memory} or {@code redis}
 * @param redisUri the Redis to count in with {@code redis}, else null
 * @param storeOptions the store's own settings that were given ({@code store-timeout},
 *     {@code fail-mode}), checked by the store when the app starts
 * @param tokensPerMinute LLM tokens per user per minute on {@code /api/agent/run}, 0 = no token budget
 * @param maxConcurrentRuns agent runs of one user at once on {@code /api/agent/run}, 0 = unlimited
 */
public record AppConfig(String host, int port, String adminToken, boolean adminTokenGenerated,
    int requestsPerMinute, int helloPerMinute, int maxLlmCalls, int llmLatencyMillis, String store,
    String redisUri, Map<String, String> storeOptions, int tokensPerMinute, int maxConcurrentRuns) {

  /**
   * Validates every setting.
   *
   * @throws IllegalArgumentException naming the setting and value that are wrong
   */
  public AppConfig {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank but was '" + host + "'");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be between 0 and 65535 but was " + port);
    }
    if (adminToken == null || adminToken.length() < 16) {
      throw new IllegalArgumentException("admin-token must have at least 16 characters but had "
          + (adminToken == null ? 0 : adminToken.length()));
    }
    positive("requests-per-minute", requestsPerMinute);
    positive("hello-per-minute", helloPerMinute);
    positive("max-llm-calls", maxLlmCalls);
    if (llmLatencyMillis < 0 || llmLatencyMillis > 60_000) {
      throw new IllegalArgumentException("llm-latency-ms must be between 0 and 60000 but was " + llmLatencyMillis);
    }
    if (tokensPerMinute < 0) {
      throw new IllegalArgumentException("tokens-per-minute must be 0 (off) or more but was " + tokensPerMinute);
    }
    if (maxConcurrentRuns < 0) {
      throw new IllegalArgumentException("max-concurrent-runs must be 0 (unlimited) or more but was " + maxConcurrentRuns);
    }
    if (!"memory".equals(store) && !"redis".equals(store)) {
      throw new IllegalArgumentException("store must be memory or redis but was '" + store + "'");
    }
    if ("redis".equals(store) && (redisUri == null || redisUri.isBlank())) {
      throw new IllegalArgumentException("redis-uri is required with store=redis, such as --redis-uri=redis://127.0.0.1:6379"
          + " or CONTROLTOWER_REDIS_URI");
    }
    storeOptions = Map.copyOf(storeOptions);
    if ("memory".equals(store) && !storeOptions.isEmpty()) {
      throw new IllegalArgumentException(new java.util.TreeSet<>(storeOptions.keySet())
          + " set but store is memory (the default): add --store=redis, or leave them out");
    }
    if ("memory".equals(store) && redisUri != null) {
      throw new IllegalArgumentException("redis-uri is set but store is memory (the default): add --store=redis"
          + " (or CONTROLTOWER_STORE=redis) to share the limits through Redis, or leave redis-uri out");
    }
  }

  /** The settings with the in-process store. */
  public AppConfig(String host, int port, String adminToken, boolean adminTokenGenerated, int requestsPerMinute,
      int helloPerMinute, int maxLlmCalls, int llmLatencyMillis) {
    this(host, port, adminToken, adminTokenGenerated, requestsPerMinute, helloPerMinute, maxLlmCalls,
        llmLatencyMillis, "memory", null, Map.of());
  }

  /** The settings with the default token budget (20,000 per minute) and 2 runs at once. */
  public AppConfig(String host, int port, String adminToken, boolean adminTokenGenerated, int requestsPerMinute,
      int helloPerMinute, int maxLlmCalls, int llmLatencyMillis, String store, String redisUri,
      Map<String, String> storeOptions) {
    this(host, port, adminToken, adminTokenGenerated, requestsPerMinute, helloPerMinute, maxLlmCalls,
        llmLatencyMillis, store, redisUri, storeOptions, DEFAULT_TOKENS_PER_MINUTE, DEFAULT_MAX_CONCURRENT_RUNS);
  }

  /** The default of {@code --tokens-per-minute}. */
  public static final int DEFAULT_TOKENS_PER_MINUTE = 20_000;
  /** The default of {@code --max-concurrent-runs}. */
  public static final int DEFAULT_MAX_CONCURRENT_RUNS = 2;

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1 but was " + value);
    }
  }

  /**
   * Reads the settings from command-line options and the environment.
   *
   * @param args options of the form {@code --name=value}
   * @param env the environment, for example {@code System::getenv}
   * @return the settings
   * @throws IllegalArgumentException for an unknown option or a bad value
   */
  public static AppConfig from(String[] args, Function<String, String> env) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 3) {
        throw new IllegalArgumentException("options look like --name=value but got '" + arg + "'");
      }
      String name = arg.substring(2, eq);
      if (!KNOWN.containsKey(name)) {
        throw new IllegalArgumentException("unknown option --" + name + "; known options are --"
            + String.join(", --", KNOWN.keySet()));
      }
      options.put(name, arg.substring(eq + 1));
    }
    Function<String, String> value = name -> {
      String v = options.get(name);
      if (v == null) {
        v = env.apply("CONTROLTOWER_" + name.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
      }
      return v == null ? KNOWN.get(name) : v.trim();
    };
    String token = value.apply("admin-token");
    if (token != null && token.isEmpty()) {
      // An operator who sets the token and leaves it empty (a missing secret in a deployment, a typo)
      // must not get a random one silently: they would believe the admin API is locked with theirs.
      throw new IllegalArgumentException(options.containsKey("admin-token")
          ? "admin-token must not be empty but was '--admin-token=': give a token of at least 16 characters,"
              + " or leave the option out to have one generated"
          : "admin-token must not be blank but CONTROLTOWER_ADMIN_TOKEN was set to '" + env.apply("CONTROLTOWER_ADMIN_TOKEN")
              + "': give a token of at least 16 characters, or unset it to have one generated");
    }
    boolean generated = token == null;
    if (generated) {
      byte[] bytes = new byte[16];
      new SecureRandom().nextBytes(bytes);
      token = HexFormat.of().formatHex(bytes);
    }
    return new AppConfig(value.apply("host"), integer("port", value.apply("port")), token, generated,
        integer("requests-per-minute", value.apply("requests-per-minute")),
        integer("hello-per-minute", value.apply("hello-per-minute")),
        integer("max-llm-calls", value.apply("max-llm-calls")),
        integer("llm-latency-ms", value.apply("llm-latency-ms")), value.apply("store"), value.apply("redis-uri"),
        storeOptions(value), integer("tokens-per-minute", value.apply("tokens-per-minute")),
        integer("max-concurrent-runs", value.apply("max-concurrent-runs")));
  }

  private static Map<String, String> storeOptions(Function<String, String> value) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : new String[] {"store-timeout", "fail-mode"}) {
      String v = value.apply(name);
      if (v != null) {
        out.put(name, v);
      }
    }
    return out;
  }

  private static final Map<String, String> KNOWN = new LinkedHashMap<>();

  static {
    KNOWN.put("host", "127.0.0.1");
    KNOWN.put("port", "8080");
    KNOWN.put("admin-token", null);
    KNOWN.put("requests-per-minute", "30");
    KNOWN.put("hello-per-minute", "5");
    KNOWN.put("max-llm-calls", "10");
    KNOWN.put("llm-latency-ms", "0");
    KNOWN.put("tokens-per-minute", String.valueOf(DEFAULT_TOKENS_PER_MINUTE));
    KNOWN.put("max-concurrent-runs", String.valueOf(DEFAULT_MAX_CONCURRENT_RUNS));
    KNOWN.put("store", "memory");
    KNOWN.put("redis-uri", null);
    KNOWN.put("store-timeout", null);
    KNOWN.put("fail-mode", null);
  }

  private static int integer(String name, String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer but was '" + text + "'", e);
    }
  }
}
