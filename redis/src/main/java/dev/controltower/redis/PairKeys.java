package dev.controltower.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The Redis names of a store's pairs, and how user and endpoint names are kept in them.
 *
 * <p>A pair's hash is {@code <prefix>p:{<user tag>}<pair id>} and its user's index (a set of that
 * user's pair keys) is {@code <prefix>u:{<user tag>}}: both carry the same hash tag, so that in Redis
 * Cluster a user's keys share one slot and one script may touch them all. The tag is 96 bits of
 * SHA-256 over the user's UTF-16 code units, and the pair id 128 bits of SHA-256 over the user's
 * length, the user and the endpoint (so "ab" + "c" and "a" + "bc" differ). Hashing makes every key
 * short and made of hex digits whatever the names hold (CRLF, braces, 64 KB, lone surrogates); the
 * names themselves are stored in the hash and compared by the script on every step, so that even a
 * hash collision cannot merge two pairs (the script refuses to run instead).
 *
 * <p>Names are stored losslessly: {@code 'u'} and their UTF-8 bytes when they are well-formed UTF-16,
 * else {@code 'w'} and their UTF-16BE code units (a lone surrogate has no UTF-8 form).
 */
final class PairKeys {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(PairKeys::sha256);

  private final byte[] pairPrefix;
  private final byte[] userPrefix;
  private final String prefix;

  PairKeys(String prefix) {
    this.prefix = prefix;
    this.pairPrefix = (prefix + "p:{").getBytes(StandardCharsets.UTF_8);
    this.userPrefix = (prefix + "u:{").getBytes(StandardCharsets.UTF_8);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The pair's hash key. */
  byte[] pair(String user, String endpoint) {
    MessageDigest digest = SHA256.get();
    byte[] tag = userTag(digest, user);
    digest.reset();
    int n = user.length();
    digest.update(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
    update(digest, user);
    update(digest, endpoint);
    byte[] id = digest.digest();
    byte[] key = new byte[pairPrefix.length + 24 + 1 + 32];
    System.arraycopy(pairPrefix, 0, key, 0, pairPrefix.length);
    int at = hex(tag, 12, key, pairPrefix.length);
    key[at++] = '}';
    hex(id, 16, key, at);
    return key;
  }

  /**
   * The pair's permit set: the pair's key with {@code c:} for {@code p:}, so in the same hash slot,
   * and outside both the pair pattern and the user's index (a reset never drops a held permit).
   */
  byte[] permits(String user, String endpoint) {
    byte[] key = pair(user, endpoint);
    key[pairPrefix.length - 3] = 'c';
    return key;
  }

  /** The user's index key. */
  byte[] index(String user) {
    MessageDigest digest = SHA256.get();
    byte[] tag = userTag(digest, user);
    byte[] key = new byte[userPrefix.length + 24 + 1];
    System.arraycopy(userPrefix, 0, key, 0, userPrefix.length);
    int at = hex(tag, 12, key, userPrefix.length);
    key[at] = '}';
    return key;
  }

  /** A SCAN pattern that matches every pair key of this prefix and nothing else. */
  byte[] pairPattern() {
    StringBuilder pattern = new StringBuilder();
    for (int i = 0; i < prefix.length(); i++) {
      char c = prefix.charAt(i);
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        pattern.append('\\');
      }
      pattern.append(c);
    }
    return pattern.append("p:{*").toString().getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] userTag(MessageDigest digest, String user) {
    digest.reset();
    update(digest, user);
    return digest.digest();
  }

  private static void update(MessageDigest digest, String s) {
    byte[] units = new byte[2 * s.length()];
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      units[2 * i] = (byte) (c >>> 8);
      units[2 * i + 1] = (byte) c;
    }
    digest.update(units);
  }

  private static int hex(byte[] bytes, int count, byte[] out, int at) {
    for (int i = 0; i < count; i++) {
      out[at++] = HEX[(bytes[i] >>> 4) & 0xF];
      out[at++] = HEX[bytes[i] & 0xF];
    }
    return at;
  }

  /** A name as the store keeps it: lossless for any Java string. */
  static byte[] encodeName(String name) {
    if (isWellFormed(name)) {
      byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[utf8.length + 1];
      out[0] = 'u';
      System.arraycopy(utf8, 0, out, 1, utf8.length);
      return out;
    }
    // By hand: the UTF-16 encoder would replace a lone surrogate.
    byte[] out = new byte[1 + 2 * name.length()];
    out[0] = 'w';
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      out[1 + 2 * i] = (byte) (c >>> 8);
      out[2 + 2 * i] = (byte) c;
    }
    return out;
  }

  /** The inverse of {@link #encodeName}. */
  static String decodeName(byte[] stored) {
    if (stored.length == 0) {
      throw new IllegalStateException("a stored name is never empty");
    }
    if (stored[0] == 'u') {
      return new String(stored, 1, stored.length - 1, StandardCharsets.UTF_8);
    }
    // By hand: the UTF-16 decoder would replace a lone surrogate.
    char[] units = new char[(stored.length - 1) / 2];
    for (int i = 0; i < units.length; i++) {
      units[i] = (char) (((stored[1 + 2 * i] & 0xFF) << 8) | (stored[2 + 2 * i] & 0xFF));
    }
    return new String(units);
  }

  private static boolean isWellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
