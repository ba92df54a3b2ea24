package dev.controltower.servlet;

import dev.controltower.spi.kit.FakeClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Who a request is, over real HTTP on embedded Jetty: the peer is always 127.0.0.1. */
class IdentityTest {
  private final FakeClock clock = FakeClock.atMillis(100_000);
  private final RateLimiter limiter = RateLimiter.builder().clock(clock)
      .defaultConfig(RateLimitConfig.builder().requestsPerMinute(3).build()).build();
  private final ResourceTracker tracker = ResourceTracker.builder().clock(clock).build();
  private EmbeddedJetty jetty;

  private int start(Map<String, String> params) throws Exception {
    Map<String, String> all = new HashMap<>(Map.of("user-header", "X-API-Key"));
    all.putAll(params);
    jetty = EmbeddedJetty.start(new RateLimitFilter(limiter, tracker), all);
    return jetty.port();
  }

  @AfterEach
  void stop() throws Exception {
    if (jetty != null) {
      jetty.close();
    }
  }

  private static String keyOf(RawHttp.Response r) {
    String body = r.body();
    return body.substring(body.indexOf("key=") + 4, body.indexOf(" endpoint="));
  }

  private static String sha256Prefix(String text) throws Exception {
    byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      out.append(String.format("%02x", d[i]));
    }
    return out.toString();
  }

  private long counted(String key) {
    return limiter.getUsage(key, "default").get(LimitType.MINUTE).current();
  }

  @Test
  void identity_principalBeatsApiKeyBeatsIp() throws Exception {
    int port = start(Map.of());

    RawHttp.Response all = RawHttp.get(port, "/a", "X-Test-User: alice", "X-API-Key: sk-123");
    RawHttp.Response keyAndIp = RawHttp.get(port, "/a", "X-API-Key: sk-123");
    RawHttp.Response ipOnly = RawHttp.get(port, "/a");

    assertThat(keyOf(all)).isEqualTo("user:alice");
    assertThat(keyOf(keyAndIp)).isEqualTo("key:" + sha256Prefix("sk-123"));
    assertThat(keyOf(ipOnly)).isEqualTo("ip:127.0.0.1");
  }

  @Test
  void apiKey_neverAppearsInKeysHeadersOrLogs() throws Exception {
    int port = start(Map.of());
    String secret = "sk-live-SECRET-0123456789";
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    StringBuilder heads = new StringBuilder();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 5; i++) { // the last two are rejected, and rejections are logged at DEBUG
        RawHttp.Response r = RawHttp.get(port, "/a", "X-API-Key: " + secret);
        heads.append(r.rawHead()).append(r.body());
        assertThat(keyOf429Safe(r)).doesNotContain(secret);
      }
    } finally {
      System.setErr(original);
    }

    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).contains("rejected key:" + sha256Prefix(secret));
    assertThat(log).doesNotContain(secret);
    assertThat(heads.toString()).doesNotContain(secret).doesNotContain("SECRET");
    assertThat(counted("key:" + sha256Prefix(secret))).isEqualTo(3);
  }

  private static String keyOf429Safe(RawHttp.Response r) {
    return r.status() == 200 ? keyOf(r) : r.body();
  }

  @Test
  void logs_controlCharactersFromClient_areNeutralized() throws Exception {
    int port = start(Map.of("identity-order", "principal"));
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 4; i++) {
        RawHttp.get(port, "/a", "X-Test-User: eve%0D%0A%5Bmain%5D%20INFO%20forged%20line");
      }
    } finally {
      System.setErr(original);
    }

    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).contains("rejected user:#").contains(" on default");
    assertThat(log).doesNotContain("\r").doesNotContain("forged");
  }

  @Test
  void principalWithControlCharacters_isHashedNotEchoed() throws Exception {
    int port = start(Map.of());

    RawHttp.Response r = RawHttp.get(port, "/a", "X-Test-User: eve%0D%0AX-Injected:%201");

    assertThat(keyOf(r)).startsWith("user:#").doesNotContain("eve");
    assertThat(r.rawHead()).doesNotContain("Injected");
  }

  @Test
  void forwardedFor_fromUntrustedPeer_isIgnored() throws Exception {
    int port = start(Map.of("trusted-proxies", "10.0.0.0/8"));

    RawHttp.Response r = RawHttp.get(port, "/a", "X-Forwarded-For: 198.51.100.7");

    assertThat(keyOf(r)).isEqualTo("ip:127.0.0.1");
  }

  @Test
  void forwardedFor_noTrustedProxiesConfigured_isIgnored() throws Exception {
    int port = start(Map.of());

    assertThat(keyOf(RawHttp.get(port, "/a", "X-Forwarded-For: 198.51.100.7"))).isEqualTo("ip:127.0.0.1");
  }

  @Test
  void forwardedFor_behindTrustedProxy_firstUntrustedFromTheRight() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1, 10.0.0.0/8"));

    RawHttp.Response r = RawHttp.get(port, "/a", "X-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.0.0.3");

    assertThat(keyOf(r)).isEqualTo("ip:198.51.100.7");
  }

  @Test
  void spoofedLeftmostEntry_cannotEscapeTheBucket() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1"));

    for (int i = 0; i < 3; i++) {
      assertThat(RawHttp.get(port, "/a", "X-Forwarded-For: 6.6.6." + i + ", 198.51.100.7").status()).isEqualTo(200);
    }

    assertThat(RawHttp.get(port, "/a", "X-Forwarded-For: 6.6.6.99, 198.51.100.7").status()).isEqualTo(429);
  }

  @Test
  void rfc7239Forwarded_isReadWhenConfigured() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1", "forwarded-header", "Forwarded"));

    RawHttp.Response r = RawHttp.get(port, "/a", "Forwarded: for=\"[2001:db8:cafe::17]:4711\";proto=https");

    assertThat(keyOf(r)).isEqualTo("ip:2001:db8:cafe:0:0:0:0:0/56");
  }

  @Test
  void xRealIp_isIgnoredUnlessConfigured() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1"));

    assertThat(keyOf(RawHttp.get(port, "/a", "X-Real-IP: 198.51.100.7"))).isEqualTo("ip:127.0.0.1");
  }

  @Test
  void ipv4MappedIpv6_isNormalizedToIpv4() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1"));

    RawHttp.Response r = RawHttp.get(port, "/a", "X-Forwarded-For: ::ffff:198.51.100.7");

    assertThat(keyOf(r)).isEqualTo("ip:198.51.100.7");
  }

  @Test
  void ipv6_isAggregatedTo56AndSharesOneBucket() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1"));

    RawHttp.Response a = RawHttp.get(port, "/a", "X-Forwarded-For: 2001:db8:aa:bb01::1");
    RawHttp.Response b = RawHttp.get(port, "/a", "X-Forwarded-For: [2001:db8:aa:bbff:1:2:3:4]:999");
    RawHttp.Response c = RawHttp.get(port, "/a", "X-Forwarded-For: 2001:db8:aa:bb42::9");
    RawHttp.Response d = RawHttp.get(port, "/a", "X-Forwarded-For: 2001:db8:aa:bb77::9");

    assertThat(keyOf(a)).isEqualTo("ip:2001:db8:aa:bb00:0:0:0:0/56");
    assertThat(keyOf(b)).isEqualTo(keyOf(a));
    assertThat(c.status()).isEqualTo(200);
    assertThat(d.status()).isEqualTo(429);
  }

  @Test
  void hugeForwardedHeader_isHandledInBoundedWorkWithoutDns() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1"));
    StringBuilder spoofed = new StringBuilder();
    while (spoofed.length() < 64 * 1024) {
      spoofed.append("evil").append(spoofed.length()).append(".example.com, ");
    }
    String header = "X-Forwarded-For: " + spoofed + "198.51.100.7";
    String hostNames = "X-Forwarded-For: " + "a".repeat(64 * 1024) + ".example.com";

    long start = System.nanoTime();
    RawHttp.Response r = RawHttp.get(port, "/a", header);
    RawHttp.Response names = RawHttp.get(port, "/a", hostNames);
    RawHttp.Response oneName = RawHttp.get(port, "/a", "X-Forwarded-For: localhost");
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(header.length()).isGreaterThan(64 * 1024);
    assertThat(keyOf(r)).isEqualTo("ip:198.51.100.7");
    assertThat(keyOf(names)).isEqualTo("ip:127.0.0.1"); // not an address: the trusted proxy itself
    assertThat(keyOf(oneName)).isEqualTo("ip:127.0.0.1"); // "localhost" is never resolved
    assertThat(took).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void noIdentity_landsInSharedAnonymousBucket() throws Exception {
    int port = start(Map.of("identity-order", "principal, user-header"));

    for (int i = 0; i < 3; i++) {
      RawHttp.Response r = RawHttp.get(port, "/a", "X-Forwarded-For: 198.51.100." + i);
      assertThat(keyOf(r)).isEqualTo("anonymous");
    }

    assertThat(RawHttp.get(port, "/a").status()).isEqualTo(429);
    assertThat(counted("anonymous")).isEqualTo(3);
  }

  @Test
  void clientSuppliedValues_neverAppearVerbatimInResponseHeaders() throws Exception {
    int port = start(Map.of("trusted-proxies", "127.0.0.1", "endpoint-patterns", "/api/*", "legacy-headers", "true"));
    String[] hostile = {"X-Test-User: EVILUSER", "X-API-Key: EVILKEY", "X-Request-Id: EVILREQ",
        "X-Forwarded-For: 198.51.100.7", "Origin: https://EVILORIGIN"};

    StringBuilder heads = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      RawHttp.Response r = RawHttp.get(port, "/api/EVILPATH?EVILQUERY=1", hostile);
      heads.append(r.rawHead()).append('\n');
    }

    assertThat(heads.toString()).contains("HTTP/1.1 429").contains("HTTP/1.1 200");
    assertThat(heads.toString()).doesNotContainIgnoringCase("evil").doesNotContain("198.51.100.7");
  }
}
