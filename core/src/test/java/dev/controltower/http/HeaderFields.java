package dev.controltower.http;

import java.util.List;

/** Reading the fields of an admission or a problem in tests. */
final class HeaderFields {
  private HeaderFields() {}

  /** The value of the first field named {@code name}, or null when there is none. */
  static String value(List<HeaderField> fields, String name) {
    return fields.stream().filter(f -> f.name().equals(name)).map(HeaderField::value).findFirst().orElse(null);
  }
}
