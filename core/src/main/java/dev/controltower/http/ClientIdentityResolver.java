package dev.controltower.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Decides who a request is: the key its rate limits count under. Sources are tried in
 * {@link HttpSettings#identityOrder()}, first hit wins:
 *
 * <ol>
 *   <li>{@code principal}: the authenticated principal's name, key {@code user:<name>};
 *   <li>{@code user-header}: the configured API-key header, key {@code key:<hex>}, the first 32 hex digits
 *       of the value's SHA-256, so that a raw key is never stored, logged or sent;
 *   <li>{@code ip}: the client address, key {@code ip:<address>}. A forwarding header is read only when
 *       the direct peer is a trusted proxy; it is walked from the right, and the first address that is
 *       not a trusted proxy is the client. Only IP literals are parsed (never a DNS lookup);
 *       IPv4-mapped IPv6 is IPv4; other IPv6 is grouped by its {@link HttpSettings#ipv6PrefixLength()}
 *       prefix, {@code ip:2001:db8:0:100:0:0:0:0/56}.
 * </ol>
 *
 * <p>A request that yields no key is {@value #ANONYMOUS}: a shared bucket, never an unlimited one.
 * Every key is at most {@value #MAX_KEY_LENGTH} characters (a longer or unprintable name is hashed), so
 * per-key memory is constant.
 *
 * <p><b>Bounded work.</b> The forwarding header is read from its end: at most
 * {@link HttpSettings#maxForwardedHops()} entries of at most {@value #MAX_ENTRY_LENGTH} characters each
 * are looked at, whatever the header's length. An entry that is not an IP literal ends the walk, and the
 * last trusted proxy seen is the client, as it is when every entry (up to the cap) is a trusted proxy.
 *
 * <p>Thread-safe. Its settings are immutable; it keeps a fixed-size table of the keys of recent direct
 * peers (see {@code peers}), whose entries are replaced whole, never changed.
 */
public final class ClientIdentityResolver {
  /** The shared key of requests that yield no identity. */
  public static final String ANONYMOUS = "anonymous";
  /**
   * What {@link #resolve} answers for a request that sent more than one value of the configured API-key
   * header (two lines, or a comma list): not a key. Such a request is refused with 400
   * ({@link ProblemResponse#ambiguousApiKey}), never counted under one of its values: a gateway in front
   * that verified another of them than the one read here would let a client pick a fresh budget per
   * request. No real key can equal it (every key has a {@code user:}, {@code key:} or {@code ip:}
   * prefix, or is {@value #ANONYMOUS}).
   */
  public static final String AMBIGUOUS = "ambiguous";
  /** The longest key; longer names are hashed. */
  public static final int MAX_KEY_LENGTH = 80;
  /** The longest forwarding entry looked at. */
  static final int MAX_ENTRY_LENGTH = 256;

  /** Slots of the peer cache; a power of two. */
  static final int PEER_SLOTS = 256;

  private final HttpSettings settings;
  private final boolean rfc7239;
  /**
   * The keys of recent direct peers that are not trusted proxies (whose key depends on the address
   * alone), direct-mapped by the address text's hash: a busy client skips parsing and formatting its
   * address on every request. Fixed size, so a flood of addresses only overwrites slots. Entries are
   * immutable records, so a racy read sees a whole entry or none.
   */
  private final PeerKey[] peers = new PeerKey[PEER_SLOTS];

  private record PeerKey(String address, String key) {}

  /**
   * A resolver for these settings.
   *
   * @throws NullPointerException if {@code settings} is null
   */
  public ClientIdentityResolver(HttpSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings must not be null");
    this.rfc7239 = settings.forwardedHeader().equalsIgnoreCase("Forwarded");
  }

  /**
   * The key of a request.
   *
   * @param principalName the authenticated principal's name, or {@code null}
   * @param headers every value of a request header by name (an empty list or {@code null} when absent)
   * @param remoteAddr the direct peer's address as the container reports it, or {@code null}
   * @return the key, never null, never longer than {@value #MAX_KEY_LENGTH}; or {@link #AMBIGUOUS} when
   *     the configured API-key header has more than one value, whichever source would win
   */
  public String resolve(String principalName, Function<String, List<String>> headers, String remoteAddr) {
    List<String> apiKeys = settings.userHeader() == null || headers == null ? null : headers.apply(settings.userHeader());
    if (apiKeys != null && isAmbiguous(apiKeys)) {
      return AMBIGUOUS;
    }
    for (IdentitySource source : settings.identityOrder()) {
      String key = switch (source) {
        case PRINCIPAL -> principalName == null || principalName.isEmpty() ? null : capped("user:", principalName);
        case USER_HEADER -> apiKey(apiKeys);
        case IP -> clientAddress(headers, remoteAddr);
      };
      if (key != null) {
        return key;
      }
    }
    return ANONYMOUS;
  }

  /** More than one non-blank value: several header lines, or one line holding a comma list. */
  private static boolean isAmbiguous(List<String> values) {
    int present = 0;
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        if (++present > 1 || v.indexOf(',') >= 0) {
          return true;
        }
      }
    }
    return false;
  }

  private static String apiKey(List<String> values) {
    if (values == null || values.isEmpty() || values.get(0) == null || values.get(0).isBlank()) {
      return null;
    }
    return "key:" + sha256Prefix(values.get(0).strip());
  }

  private String clientAddress(Function<String, List<String>> headers, String remoteAddr) {
    if (remoteAddr == null) {
      return null;
    }
    // Only text as short as an address literal is hashed and remembered; longer text goes to parse alone.
    int slot = remoteAddr.length() <= IpLiterals.MAX_LITERAL_LENGTH ? remoteAddr.hashCode() & (PEER_SLOTS - 1) : -1;
    if (slot >= 0) {
      PeerKey cached = peers[slot];
      if (cached != null && cached.address().equals(remoteAddr)) {
        return cached.key();
      }
    }
    byte[] peer = IpLiterals.parse(remoteAddr);
    if (peer == null) {
      return null;
    }
    if (!isTrusted(peer)) {
      String key = ipKey(peer);
      if (slot >= 0) {
        peers[slot] = new PeerKey(remoteAddr, key);
      }
      return key;
    }
    byte[] client = peer;
    if (headers != null) {
      List<String> lines = headers.apply(settings.forwardedHeader());
      if (lines != null && !lines.isEmpty()) {
        client = walkForwarded(lines, peer);
      }
    }
    return ipKey(client);
  }

  /** Walks the forwarding entries from the right; see the class comment. */
  private byte[] walkForwarded(List<String> lines, byte[] peer) {
    byte[] lastTrusted = peer;
    int looked = 0;
    for (int li = lines.size() - 1; li >= 0; li--) {
      String line = lines.get(li);
      if (line == null) {
        continue;
      }
      int end = line.length();
      while (end >= 0) {
        if (looked++ >= settings.maxForwardedHops()) {
          return lastTrusted;
        }
        int start = end - 1;
        int limit = Math.max(-1, end - 1 - MAX_ENTRY_LENGTH);
        while (start > limit && line.charAt(start) != ',') {
          start--;
        }
        if (start == limit && limit >= 0 && line.charAt(start) != ',') {
          return lastTrusted; // an entry too long to be an address
        }
        String entry = line.substring(start + 1, end).strip();
        end = start; // -1 after the leftmost entry
        if (entry.isEmpty()) {
          if (end < 0) {
            break;
          }
          continue;
        }
        byte[] address = IpLiterals.parse(rfc7239 ? forValue(entry) : entry);
        if (address == null) {
          return lastTrusted;
        }
        if (!isTrusted(address)) {
          return address;
        }
        lastTrusted = address;
        if (end < 0) {
          break;
        }
      }
    }
    return lastTrusted;
  }

  /** The {@code for=} value of one RFC 7239 element, unquoted; {@code null} if it has none. */
  private static String forValue(String element) {
    for (String pair : element.split(";", 8)) {
      String p = pair.strip();
      if (p.length() > 4 && p.regionMatches(true, 0, "for=", 0, 4)) {
        String v = p.substring(4).strip();
        if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
          v = v.substring(1, v.length() - 1);
        }
        return v;
      }
    }
    return null;
  }

  private boolean isTrusted(byte[] address) {
    for (Cidr c : settings.trustedProxies()) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  private String ipKey(byte[] address) {
    if (address.length == 4) {
      return "ip:" + IpLiterals.format(address);
    }
    int prefix = settings.ipv6PrefixLength();
    return "ip:" + IpLiterals.format(IpLiterals.mask(address, prefix)) + "/" + prefix;
  }

  /** {@code prefix + name}, or {@code prefix + "#" + hash} when the name is too long or unprintable. */
  static String capped(String prefix, String name) {
    if (prefix.length() + name.length() <= MAX_KEY_LENGTH && isPrintable(name)) {
      return prefix + name;
    }
    return prefix + "#" + sha256Prefix(name);
  }

  private static boolean isPrintable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
        return false;
      }
    }
    return true;
  }

  /** The first 32 hex digits (128 bits) of the SHA-256 of the UTF-8 text. */
  static String sha256Prefix(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      StringBuilder out = new StringBuilder(32);
      for (int i = 0; i < 16; i++) {
        out.append(Character.forDigit((digest[i] >> 4) & 0xf, 16)).append(Character.forDigit(digest[i] & 0xf, 16));
      }
      return out.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
