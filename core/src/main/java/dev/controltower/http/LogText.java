package dev.controltower.http;

/**
 * Makes client-influenced text safe to put in a log line: control characters (CR, LF, ESC, ...)
 * become {@code \\uXXXX} escapes, and anything longer than {@link #MAX_LENGTH} is cut and marked, so a
 * hostile value can neither forge log lines nor flood the log.
 */
final class LogText {
  /** The most characters of a value that reach a log line. */
  static final int MAX_LENGTH = 200;

  private LogText() {}

  /**
   * The value, neutralized for logging.
   *
   * @param value any text, may be null
   * @return a printable, bounded rendering; {@code "null"} for null
   */
  static String text(String value) {
    if (value == null) {
      return "null";
    }
    int limit = Math.min(value.length(), MAX_LENGTH);
    StringBuilder out = null;
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      boolean unsafe = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
      if (unsafe && out == null) {
        out = new StringBuilder(limit + 16).append(value, 0, i);
      }
      if (out != null) {
        if (unsafe) {
          out.append(String.format("\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
    }
    String safe = out == null ? value.substring(0, limit) : out.toString();
    return value.length() > MAX_LENGTH ? safe + "...(" + value.length() + " chars)" : safe;
  }
}
