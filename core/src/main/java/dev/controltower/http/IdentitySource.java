package dev.controltower.http;

/**
 * Where a request's user key may come from; {@link HttpSettings#identityOrder()} lists them in the order
 * they are tried, first hit wins.
 */
public enum IdentitySource {
  /** The authenticated principal's name: key {@code user:<name>}. */
  PRINCIPAL("principal"),
  /** The configured API-key header ({@link HttpSettings#userHeader()}), hashed: key {@code key:<sha-256 prefix>}. */
  USER_HEADER("user-header"),
  /** The client IP, through trusted proxies only: key {@code ip:<address>}. */
  IP("ip");

  private final String parameterValue;

  IdentitySource(String parameterValue) {
    this.parameterValue = parameterValue;
  }

  /** The name used in the {@code identity-order} parameter. */
  public String parameterValue() {
    return parameterValue;
  }

  static IdentitySource fromParameter(String value) {
    for (IdentitySource s : values()) {
      if (s.parameterValue.equalsIgnoreCase(value)) {
        return s;
      }
    }
    return null;
  }
}
