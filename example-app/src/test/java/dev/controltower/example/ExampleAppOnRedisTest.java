package dev.controltower.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.controltower.redis.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two example apps started with {@code --store=redis --redis-uri=...} on one test-owned redis-server
 * (stopped by its pid after each test): one user has one {@code /api/hello} budget across both, and
 * the counts are in Redis.
 */
class ExampleAppOnRedisTest {
  private static final String TOKEN = "redis-admin-token-0123456789";
  private RedisServer redis;
  private final List<ExampleApp> apps = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void startRedis() {
    redis = RedisServer.start();
  }

  @AfterEach
  void stopAll() throws Exception {
    try {
      for (ExampleApp app : apps) {
        app.stop();
      }
    } finally {
      redis.close();
    }
  }

  private ExampleApp start(String[] args, Map<String, String> env) throws Exception {
    ExampleApp app = ExampleApp.start(AppConfig.from(args, env::get));
    apps.add(app);
    return app;
  }

  private int hello(ExampleApp app) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(app.baseUrl() + "/api/hello")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void twoAppsOnRedis_helloLimitOfFive_isSharedAndCountedInRedis() throws Exception {
    // A generous timeout: two busy cores; what is tested is the sharing, not the fail mode.
    ExampleApp a = start(new String[] {"--port=0", "--store=redis", "--redis-uri=" + redis.uri(),
        "--store-timeout=2s", "--fail-mode=closed", "--admin-token=" + TOKEN}, Map.of());
    ExampleApp b = start(new String[] {"--port=0"}, Map.of("CONTROLTOWER_STORE", "redis",
        "CONTROLTOWER_REDIS_URI", redis.uri(), "CONTROLTOWER_STORE_TIMEOUT", "2s", "CONTROLTOWER_FAIL_MODE", "closed"));

    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      statuses.add(hello(i % 2 == 0 ? a : b));
    }

    assertThat(statuses.subList(0, 5)).containsOnly(200);
    assertThat(statuses.subList(5, 8)).containsOnly(429);
    assertThat((List<?>) redis.command("KEYS", "*p:{*")).hasSize(1);
    assertThat(redis.calls("evalsha")).isGreaterThanOrEqualTo(5);
    // The store the app built from --store=redis reports to the app's metrics: one script latency per
    // call that reached Redis from app a (its three admitted hellos; a refusal may be answered locally).
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(a.baseUrl() + "/admin/metrics"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    String count = metrics.body().lines().filter(l -> l.startsWith("controltower_store_latency_seconds_count{"))
        .filter(l -> l.contains("operation=\"eval\"")).map(l -> l.substring(l.lastIndexOf(' ') + 1))
        .findFirst().orElse("absent");
    assertThat(count).isNotEqualTo("absent");
    assertThat(Double.parseDouble(count)).isGreaterThanOrEqualTo(3);
  }

  @Test
  void from_storeRedisWithoutUri_failsNamingTheSetting() {
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--store=redis"}, n -> null))
        .hasMessageStartingWith("redis-uri is required with store=redis");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--redis-uri=redis://h:1"}, n -> null))
        .hasMessageStartingWith("redis-uri is set but store is memory");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--fail-mode=open"}, n -> null))
        .hasMessageStartingWith("[fail-mode] set but store is memory");
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--store=mongo"}, n -> null))
        .hasMessage("store must be memory or redis but was 'mongo'");
  }

  @Test
  void start_badStoreTimeout_failsNamingIt() {
    assertThatThrownBy(() -> start(new String[] {"--port=0", "--store=redis", "--redis-uri=" + redis.uri(),
        "--store-timeout=soon"}, Map.of()))
        .hasMessage("store-timeout must be a positive number of ms (50, 50ms or 2s) but was soon");
  }

  @Test
  void start_badRedisUri_failsNamingIt() {
    assertThatThrownBy(() -> start(new String[] {"--port=0", "--store=redis", "--redis-uri=http://x"}, Map.of()))
        .hasMessageContaining("redis-uri must be a URI like redis://host:6379 but was http://x");
  }
}
