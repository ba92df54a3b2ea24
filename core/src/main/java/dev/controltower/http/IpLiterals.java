package dev.controltower.http;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Parses IP address literals, and nothing else: a host name is never resolved, so no input can make a
 * request wait on DNS. Accepts {@code 1.2.3.4}, {@code 1.2.3.4:80}, {@code ::1}, {@code [::1]},
 * {@code [::1]:80}, and returns IPv4-mapped IPv6 addresses ({@code ::ffff:1.2.3.4}) as IPv4.
 *
 * <p>Work is bounded: input longer than {@link #MAX_LITERAL_LENGTH} characters is refused unread.
 */
final class IpLiterals {
  /** Longer than any IP literal with brackets and a port. */
  static final int MAX_LITERAL_LENGTH = 64;

  private IpLiterals() {}

  /**
   * The address bytes (4 or 16) of an IP literal, with any brackets and port stripped; {@code null}
   * when the text is not an IP literal.
   */
  static byte[] parse(String text) {
    if (text == null) {
      return null;
    }
    String s = text.strip();
    if (s.isEmpty() || s.length() > MAX_LITERAL_LENGTH) {
      return null;
    }
    if (s.charAt(0) == '[') {
      int close = s.indexOf(']');
      if (close < 0) {
        return null;
      }
      String rest = s.substring(close + 1);
      if (!rest.isEmpty() && !isPort(rest)) {
        return null;
      }
      return parseV6(s.substring(1, close));
    }
    int firstColon = s.indexOf(':');
    if (firstColon < 0) {
      return parseV4(s);
    }
    if (firstColon == s.lastIndexOf(':')) {
      // exactly one colon: an IPv4 address with a port
      return isPort(s.substring(firstColon)) ? parseV4(s.substring(0, firstColon)) : null;
    }
    return parseV6(s);
  }

  private static boolean isPort(String colonAndDigits) {
    int n = colonAndDigits.length();
    if (n < 2 || n > 6 || colonAndDigits.charAt(0) != ':') {
      return false;
    }
    for (int i = 1; i < n; i++) {
      char c = colonAndDigits.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** Strict dotted quad: four decimal parts 0-255, no leading zeros beyond a single 0. */
  static byte[] parseV4(String s) {
    byte[] out = new byte[4];
    int part = 0;
    int value = -1;
    int digits = 0;
    for (int i = 0; i <= s.length(); i++) {
      char c = i < s.length() ? s.charAt(i) : '.';
      if (c == '.') {
        if (value < 0 || part > 3) {
          return null;
        }
        out[part++] = (byte) value;
        value = -1;
        digits = 0;
      } else if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) {
          return null; // leading zero: octal in some parsers, ambiguous
        }
        value = (value < 0 ? 0 : value * 10) + (c - '0');
        digits++;
        if (value > 255) {
          return null;
        }
      } else {
        return null;
      }
    }
    return part == 4 ? out : null;
  }

  private static byte[] parseV6(String text) {
    // A zone id (fe80::1%eth0) scopes a link-local address to an interface; the address alone is the identity.
    int zone = text.indexOf('%');
    String s = zone < 0 ? text : text.substring(0, zone);
    if (s.isEmpty() || s.indexOf(':') < 0) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
      if (!ok) {
        return null;
      }
    }
    try {
      // In brackets the JDK treats the text as an IPv6 literal only: it never falls back to a lookup.
      return normalize(InetAddress.getByName("[" + s + "]").getAddress());
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** IPv4-mapped IPv6 ({@code ::ffff:a.b.c.d}) as 4 bytes; anything else unchanged. */
  static byte[] normalize(byte[] addr) {
    if (addr.length != 16) {
      return addr;
    }
    for (int i = 0; i < 10; i++) {
      if (addr[i] != 0) {
        return addr;
      }
    }
    if (addr[10] != (byte) 0xff || addr[11] != (byte) 0xff) {
      return addr;
    }
    return new byte[] {addr[12], addr[13], addr[14], addr[15]};
  }

  /** The textual form: dotted quad, or eight colon-separated hex groups, lower case. */
  static String format(byte[] addr) {
    if (addr.length == 4) {
      return (addr[0] & 0xff) + "." + (addr[1] & 0xff) + "." + (addr[2] & 0xff) + "." + (addr[3] & 0xff);
    }
    StringBuilder out = new StringBuilder(39);
    for (int i = 0; i < 16; i += 2) {
      if (i > 0) {
        out.append(':');
      }
      out.append(Integer.toHexString(((addr[i] & 0xff) << 8) | (addr[i + 1] & 0xff)));
    }
    return out.toString();
  }

  /** A copy of {@code addr} with every bit after the first {@code prefixLength} cleared. */
  static byte[] mask(byte[] addr, int prefixLength) {
    byte[] out = addr.clone();
    for (int bit = prefixLength; bit < out.length * 8; bit++) {
      out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return out;
  }
}
