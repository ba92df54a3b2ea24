package dev.controltower.resources.internal;

/**
 * A (user, endpoint) pair as the argument of a lookup: it equals the {@link WindowState} stored for the
 * same pair, which is its own key in the store. Its hash is computed once.
 */
final class WindowKey {
  final String user;
  final String endpoint;
  private final int hash;

  WindowKey(String user, String endpoint) {
    this(user, endpoint, hash(user, endpoint));
  }

  WindowKey(String user, String endpoint, int hash) {
    this.user = user;
    this.endpoint = endpoint;
    this.hash = hash;
  }

  /** The hash of the pair, for lookups and for the {@link WindowState} stored for it. */
  static int hash(String user, String endpoint) {
    return 31 * user.hashCode() + endpoint.hashCode();
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (o instanceof WindowState s) {
      return hash == s.hashCode() && s.matches(user, endpoint);
    }
    return o instanceof WindowKey k && hash == k.hash && user.equals(k.user) && endpoint.equals(k.endpoint);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return user + " @ " + endpoint;
  }
}
