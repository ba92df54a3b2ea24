package dev.controltower.http;

import java.util.Objects;

/**
 * One response header field to set. The adapters copy these onto their response objects.
 *
 * @param name the field name
 * @param value the field value, built only from server-side facts (never request text)
 */
public record HeaderField(String name, String value) {
  /**
   * Validates the fields.
   *
   * @throws NullPointerException if an argument is null
   */
  public HeaderField {
    Objects.requireNonNull(name, "name must not be null");
    Objects.requireNonNull(value, "value must not be null");
  }
}
