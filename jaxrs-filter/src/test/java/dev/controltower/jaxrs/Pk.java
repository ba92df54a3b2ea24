package dev.controltower.jaxrs;

import dev.controltower.http.RateLimitHeaders;

/** Expected rate-limit field values: every list item with the endpoint's partition key appended. */
final class Pk {
  private Pk() {}

  static String with(String value, String endpoint) {
    String pk = ";pk=" + RateLimitHeaders.partitionKey(endpoint);
    return String.join(", ", java.util.Arrays.stream(value.split(", ")).map(item -> item + pk).toList());
  }
}
