package dev.controltower.http;

import java.util.Arrays;

/**
 * A block of IP addresses, such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}; a bare address is a
 * block of one. Used for the trusted-proxy list. Immutable and thread-safe.
 *
 * <p>IPv4-mapped IPv6 addresses are treated as IPv4 on both sides, so {@code ::ffff:10.0.0.1} is in
 * {@code 10.0.0.0/8}.
 *
 * @param network the block's first address, 4 or 16 bytes, host bits cleared (the array is copied)
 * @param prefixLength the number of leading bits that are fixed, 0-32 for IPv4, 0-128 for IPv6
 */
public record Cidr(byte[] network, int prefixLength) {

  /**
   * Validates and copies the fields, clearing any host bits.
   *
   * @throws IllegalArgumentException if the address is not 4 or 16 bytes or the prefix is out of range
   * @throws NullPointerException if {@code network} is null
   */
  public Cidr {
    if (network == null) {
      throw new NullPointerException("network must not be null");
    }
    if (network.length != 4 && network.length != 16) {
      throw new IllegalArgumentException("network must have 4 or 16 bytes but had " + network.length);
    }
    int max = network.length * 8;
    if (prefixLength < 0 || prefixLength > max) {
      throw new IllegalArgumentException("prefixLength must be in [0, " + max + "] but was " + prefixLength);
    }
    network = IpLiterals.mask(network, prefixLength);
  }

  /**
   * Parses {@code address/prefix} or a bare address (a block of one). Only IP literals are accepted; a
   * host name is an error, never a lookup.
   *
   * @throws IllegalArgumentException if the text is not a CIDR block
   */
  public static Cidr parse(String text) {
    String s = text == null ? "" : text.strip();
    int slash = s.indexOf('/');
    String addressText = slash < 0 ? s : s.substring(0, slash);
    byte[] address = IpLiterals.parse(addressText);
    if (address == null || addressText.indexOf(']') >= 0 || looksLikePort(addressText, address)) {
      throw new IllegalArgumentException("not a CIDR block: '" + s + "'");
    }
    int max = address.length * 8;
    int prefix = max;
    if (slash >= 0) {
      String p = s.substring(slash + 1);
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new IllegalArgumentException("not a CIDR block: '" + s + "'");
      }
      prefix = Integer.parseInt(p);
      if (prefix > max) {
        throw new IllegalArgumentException("not a CIDR block: '" + s + "' (prefix > " + max + ")");
      }
    }
    return new Cidr(address, prefix);
  }

  private static boolean looksLikePort(String text, byte[] address) {
    // "10.0.0.1:80" parses as an address with a port; a CIDR block has no port
    int colon = text.indexOf(':');
    return address.length == 4 && colon >= 0 && colon == text.lastIndexOf(':');
  }

  /** Whether the address (4 or 16 bytes, IPv4-mapped IPv6 counting as IPv4) is in this block. */
  public boolean contains(byte[] address) {
    byte[] a = IpLiterals.normalize(address);
    if (a.length != network.length) {
      return false;
    }
    return Arrays.equals(IpLiterals.mask(a, prefixLength), network);
  }

  /** The block's first address (a copy). */
  @Override
  public byte[] network() {
    return network.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefixLength == prefixLength && Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(network) * 31 + prefixLength;
  }

  /** {@code address/prefix}. */
  @Override
  public String toString() {
    return IpLiterals.format(network) + "/" + prefixLength;
  }
}
