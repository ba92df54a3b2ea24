package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ClientIdentityResolverTest {

  private static final Map<String, String> PROXIED = Map.of(
      "trusted-proxies", "10.0.0.0/8, 2001:db8:ffff::/48", "user-header", "X-API-Key");

  private static ClientIdentityResolver resolver(Map<String, String> params) {
    return new ClientIdentityResolver(HttpSettings.fromMap(params));
  }

  private static Function<String, List<String>> headers(String... nameValue) {
    Map<String, List<String>> map = new HashMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      map.computeIfAbsent(nameValue[i].toLowerCase(), k -> new java.util.ArrayList<>()).add(nameValue[i + 1]);
    }
    return name -> map.getOrDefault(name.toLowerCase(), List.of());
  }

  @Test
  void resolve_principalAndKeyAndIp_principalWins() {
    String key = resolver(PROXIED).resolve("alice", headers("X-API-Key", "secret-123"), "203.0.113.9");

    assertThat(key).isEqualTo("user:alice");
  }

  @Test
  void resolve_keyAndIp_keyWinsAndIsHashed() {
    String key = resolver(PROXIED).resolve(null, headers("X-API-Key", "secret-123"), "203.0.113.9");

    assertThat(key).startsWith("key:").hasSize(4 + 32).doesNotContain("secret");
    assertThat(key).isEqualTo("key:" + ClientIdentityResolver.sha256Prefix("secret-123"));
  }

  @Test
  void resolve_keyHeaderNotConfigured_isIgnored() {
    String key = resolver(Map.of()).resolve(null, headers("X-API-Key", "secret-123"), "203.0.113.9");

    assertThat(key).isEqualTo("ip:203.0.113.9");
  }

  @Test
  void resolve_identityOrderIpFirst_ipWins() {
    String key = resolver(Map.of("identity-order", "ip,principal")).resolve("alice", headers(), "203.0.113.9");

    assertThat(key).isEqualTo("ip:203.0.113.9");
  }

  @Test
  void resolve_forwardedFromUntrustedPeer_isIgnored() {
    String key = resolver(PROXIED).resolve(null, headers("X-Forwarded-For", "1.2.3.4"), "203.0.113.9");

    assertThat(key).isEqualTo("ip:203.0.113.9");
  }

  @Test
  void resolve_behindTrustedProxy_firstUntrustedFromTheRightWins() {
    String key = resolver(PROXIED).resolve(null,
        headers("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.1.1"), "10.0.0.2");

    assertThat(key).isEqualTo("ip:198.51.100.7");
  }

  @Test
  void resolve_forwardedOverSeveralLines_walksFromTheLastLine() {
    String key = resolver(PROXIED).resolve(null,
        headers("X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "198.51.100.7, 10.1.1.1"), "10.0.0.2");

    assertThat(key).isEqualTo("ip:198.51.100.7");
  }

  @Test
  void resolve_rfc7239Forwarded_readsForParameter() {
    String key = resolver(Map.of("trusted-proxies", "10.0.0.0/8", "forwarded-header", "Forwarded")).resolve(null,
        headers("Forwarded", "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.9;by=10.0.0.2"),
        "10.0.0.2");

    assertThat(key).isEqualTo("ip:2001:db8:cafe:0:0:0:0:0/56");
  }

  @Test
  void resolve_forwardedWithPortsAndBrackets_stripsThem() {
    ClientIdentityResolver r = resolver(PROXIED);

    assertThat(r.resolve(null, headers("X-Forwarded-For", "198.51.100.7:5555"), "10.0.0.2"))
        .isEqualTo("ip:198.51.100.7");
    assertThat(r.resolve(null, headers("X-Forwarded-For", "[::ffff:198.51.100.7]:5555"), "10.0.0.2"))
        .isEqualTo("ip:198.51.100.7");
  }

  @Test
  void resolve_forwardedHostName_isNotResolvedAndStopsTheWalk() {
    String key = resolver(PROXIED).resolve(null, headers("X-Forwarded-For", "6.6.6.6, localhost"), "10.0.0.2");

    assertThat(key).isEqualTo("ip:10.0.0.2");
  }

  @Test
  void resolve_allForwardedTrusted_usesTheLeftmost() {
    String key = resolver(PROXIED).resolve(null, headers("X-Forwarded-For", "10.9.9.9, 10.1.1.1"), "10.0.0.2");

    assertThat(key).isEqualTo("ip:10.9.9.9");
  }

  @Test
  void resolve_ipv4MappedIpv6Peer_isIpv4() {
    assertThat(resolver(Map.of()).resolve(null, headers(), "::ffff:198.51.100.7")).isEqualTo("ip:198.51.100.7");
    assertThat(resolver(Map.of()).resolve(null, headers(), "[::ffff:c633:6407]")).isEqualTo("ip:198.51.100.7");
  }

  @Test
  void resolve_ipv4MappedProxy_isTrustedAsIpv4() {
    String key = resolver(PROXIED).resolve(null, headers("X-Forwarded-For", "198.51.100.7"), "::ffff:10.0.0.2");

    assertThat(key).isEqualTo("ip:198.51.100.7");
  }

  @Test
  void resolve_ipv6_isAggregatedTo56() {
    ClientIdentityResolver r = resolver(Map.of());

    String a = r.resolve(null, headers(), "2001:db8:aa:bb01::1");
    String b = r.resolve(null, headers(), "2001:db8:aa:bbff:1234:5678:9abc:def0");
    String c = r.resolve(null, headers(), "2001:db8:aa:cc00::1");

    assertThat(a).isEqualTo("ip:2001:db8:aa:bb00:0:0:0:0/56").isEqualTo(b);
    assertThat(c).isNotEqualTo(a);
  }

  @Test
  void resolve_ipv6PrefixConfigured_isUsed() {
    String key = resolver(Map.of("ipv6-prefix-length", "64")).resolve(null, headers(), "[2001:db8:aa:bb01::1]:443");

    assertThat(key).isEqualTo("ip:2001:db8:aa:bb01:0:0:0:0/64");
  }

  @Test
  void resolve_hugeForwardedHeader_isBoundedWork() {
    StringBuilder huge = new StringBuilder(70_000);
    while (huge.length() < 64 * 1024) {
      huge.append("10.1.1.1,");
    }
    String hugeList = huge + "10.1.1.1";
    String hugeEntry = "1".repeat(64 * 1024);
    ClientIdentityResolver r = resolver(PROXIED);

    long start = System.nanoTime();
    String listKey = "";
    String entryKey = "";
    for (int i = 0; i < 1_000; i++) {
      listKey = r.resolve(null, headers("X-Forwarded-For", hugeList), "10.0.0.2");
      entryKey = r.resolve(null, headers("X-Forwarded-For", hugeEntry), "10.0.0.2");
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(listKey).isEqualTo("ip:10.1.1.1"); // stopped after max-forwarded-hops trusted entries
    assertThat(entryKey).isEqualTo("ip:10.0.0.2"); // an entry too long to be an address
    // 2,000 resolutions of 64 KB headers: a full scan would be ~130 MB of work; bounded work is ~1 ms.
    assertThat(took).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void resolve_noIdentityAtAll_isAnonymous() {
    assertThat(resolver(Map.of()).resolve(null, headers(), null)).isEqualTo(ClientIdentityResolver.ANONYMOUS);
    assertThat(resolver(Map.of()).resolve("", headers(), "not-an-ip")).isEqualTo("anonymous");
    assertThat(resolver(Map.of("identity-order", "principal")).resolve(null, headers(), "1.2.3.4"))
        .isEqualTo("anonymous");
  }

  @Test
  void resolve_longOrUnprintablePrincipal_isHashedAndCapped() {
    ClientIdentityResolver r = resolver(Map.of());

    String longKey = r.resolve("a".repeat(10_000), headers(), null);
    String crlfKey = r.resolve("alice\r\nX-Injected: 1", headers(), null);

    assertThat(longKey).startsWith("user:#").hasSizeLessThanOrEqualTo(ClientIdentityResolver.MAX_KEY_LENGTH);
    assertThat(crlfKey).startsWith("user:#").doesNotContain("\r", "\n", "alice");
  }

  @Test
  void resolve_hugeApiKey_isHashedToFixedLength() {
    String key = resolver(PROXIED).resolve(null, headers("X-API-Key", "k".repeat(100_000)), null);

    assertThat(key).hasSize(36);
  }

  @Test
  void resolve_trustedProxyPeer_isNotRememberedAcrossRequests() {
    ClientIdentityResolver r = resolver(PROXIED);

    String first = r.resolve(null, headers("X-Forwarded-For", "198.51.100.7"), "10.0.0.2");
    String second = r.resolve(null, headers("X-Forwarded-For", "198.51.100.8"), "10.0.0.2");
    String bare = r.resolve(null, headers(), "10.0.0.2");

    assertThat(first).isEqualTo("ip:198.51.100.7");
    assertThat(second).isEqualTo("ip:198.51.100.8");
    assertThat(bare).isEqualTo("ip:10.0.0.2");
  }

  @Test
  void resolve_untrustedPeerSeenBefore_stillIgnoresItsForwardingHeader() {
    ClientIdentityResolver r = resolver(PROXIED);

    String plain = r.resolve(null, headers(), "203.0.113.9");
    String spoofed = r.resolve(null, headers("X-Forwarded-For", "1.2.3.4"), "203.0.113.9");

    assertThat(plain).isEqualTo("ip:203.0.113.9");
    assertThat(spoofed).isEqualTo("ip:203.0.113.9");
  }

  /**
   * One resolver answering many peers in turn (the peer cache has {@value ClientIdentityResolver#PEER_SLOTS}
   * slots, so thousands of addresses collide and overwrite each other) gives every request the answer a
   * fresh resolver gives.
   */
  @Test
  void resolve_manyPeersThroughOneResolver_matchFreshResolvers() {
    ClientIdentityResolver shared = resolver(PROXIED);
    java.util.Random random = new java.util.Random(7);
    List<String> peers = new java.util.ArrayList<>(List.of("10.0.0.2", "::ffff:10.0.0.2", "::ffff:198.51.100.7",
        "[2001:db8:aa:bb01::1]:443", "2001:db8:ffff::5", "not-an-ip", "1.2.3.4 ", "x".repeat(65)));
    for (int i = 0; i < 3000; i++) {
      peers.add((random.nextInt(250) + 1) + "." + random.nextInt(256) + "." + random.nextInt(256) + "."
          + random.nextInt(256));
    }
    int checked = 0;
    for (int pass = 0; pass < 3; pass++) {
      for (String peer : peers) {
        Function<String, List<String>> h = random.nextBoolean() ? headers()
            : headers("X-Forwarded-For", "198.51.100." + random.nextInt(256));
        assertThat(shared.resolve(null, h, peer)).as("peer %s, pass %d", peer, pass)
            .isEqualTo(resolver(PROXIED).resolve(null, h, peer));
        checked++;
      }
    }
    assertThat(checked).isEqualTo(3 * peers.size());
  }
}
