package dev.controltower.http;

import java.util.List;

/**
 * One endpoint pattern: an optional method, then a canonical path whose segments are literals, one-segment
 * wildcards ({@code *} or {@code {name}}), and optionally a trailing {@code *} that matches the path
 * itself and everything below it. Immutable and thread-safe.
 */
final class PathPattern {
  private final String name;
  private final String method;
  private final String[] segments;
  private final boolean prefix;

  private PathPattern(String name, String method, String[] segments, boolean prefix) {
    this.name = name;
    this.method = method;
    this.segments = segments;
    this.prefix = prefix;
  }

  /**
   * Compiles a pattern.
   *
   * @param parameter the name to blame in an error message
   * @throws IllegalArgumentException naming {@code parameter} and the pattern if it does not parse
   */
  static PathPattern compile(String parameter, String text, boolean caseInsensitive) {
    String s = text == null ? "" : text.strip();
    String method = null;
    int space = s.indexOf(' ');
    if (space > 0) {
      method = s.substring(0, space);
      s = s.substring(space + 1).strip();
      if (!method.chars().allMatch(c -> c >= 'A' && c <= 'Z')) {
        throw bad(parameter, text, "the method must be upper case letters");
      }
    }
    if (!s.startsWith("/")) {
      throw bad(parameter, text, "the path must start with '/'");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == ';') {
        throw bad(parameter, text, "the path must not contain spaces, control characters, '?', '#' or ';'");
      }
    }
    List<String> canonical = Paths.segments(s, false, caseInsensitive);
    boolean prefix = !canonical.isEmpty() && canonical.get(canonical.size() - 1).equals("*") && s.endsWith("*");
    String[] segments = canonical.subList(0, canonical.size() - (prefix ? 1 : 0)).toArray(new String[0]);
    for (int i = 0; i < segments.length; i++) {
      String seg = segments[i];
      if (seg.equals("*") || (seg.startsWith("{") && seg.endsWith("}") && seg.length() > 2)) {
        segments[i] = null; // one-segment wildcard
      } else if (seg.indexOf('*') >= 0 || seg.indexOf('{') >= 0 || seg.indexOf('}') >= 0) {
        throw bad(parameter, text, "'*' and '{name}' must be whole segments");
      }
    }
    String path = Paths.join(canonical);
    String name = method == null ? path : method + " " + path;
    return new PathPattern(name, method, segments, prefix);
  }

  private static IllegalArgumentException bad(String parameter, String text, String rule) {
    return new IllegalArgumentException(
        parameter + " must hold path patterns but had '" + LogText.text(text) + "': " + rule);
  }

  /** The endpoint name: the canonical pattern text, with its method if it has one. */
  String name() {
    return name;
  }

  /**
   * Whether a request with this method and these canonical segments matches. A {@code GET} pattern
   * matches {@code HEAD} too: containers answer HEAD by running the GET handler, so HEAD must not be a
   * way around a GET endpoint's limits.
   */
  boolean matches(String requestMethod, List<String> path) {
    if (method != null && !method.equals(requestMethod) && !(method.equals("GET") && "HEAD".equals(requestMethod))) {
      return false;
    }
    if (prefix ? path.size() < segments.length : path.size() != segments.length) {
      return false;
    }
    for (int i = 0; i < segments.length; i++) {
      if (segments[i] != null && !segments[i].equals(path.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return name;
  }
}
