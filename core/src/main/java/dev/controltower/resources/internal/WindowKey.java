package dev.controltower.resources.internal;

/** A (user, endpoint) pair, the unit of counting. Its hash is computed once. */
final class WindowKey {
  final String user;
  final String endpoint;
  private final int hash;

  WindowKey(String user, String endpoint) {
    this.user = user;
    this.endpoint = endpoint;
    this.hash = 31 * user.hashCode() + endpoint.hashCode();
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
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
