package dev.controltower.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Path canonicalization, shared by patterns and requests so that both are compared in one form. */
final class Paths {
  private Paths() {}

  /**
   * The canonical segments of a path: path parameters ({@code ;jsessionid=...}) cut from each segment,
   * each segment percent-decoded once if {@code decode}, empty and {@code .} segments dropped,
   * {@code ..} removing the segment before it (never climbing above the root), lower-cased if
   * {@code lowerCase}.
   */
  static List<String> segments(String path, boolean decode, boolean lowerCase) {
    return segments(path, decode, lowerCase, false);
  }

  /**
   * The segments of a path that its container has already decoded and mapped, read as the container
   * read it: a {@code ;} or {@code ..} still in such a path was sent encoded ({@code %3B}, {@code %2E}),
   * so the container took it as a literal character, not as a path parameter or a dot segment; and a
   * {@code %} came from {@code %25}. Only empty and {@code .} segments are dropped (they cannot move
   * the path anywhere); case is folded if {@code lowerCase}.
   */
  static List<String> literalSegments(String path, boolean lowerCase) {
    return segments(path, false, lowerCase, true);
  }

  /**
   * Whether {@link #segments} and {@link #literalSegments} can read this (undecoded-again) path
   * differently: it holds a {@code ;} or a {@code ..} segment.
   */
  static boolean readsTwoWays(String path) {
    if (path == null) {
      return false;
    }
    if (path.indexOf(';') >= 0) {
      return true;
    }
    for (int i = path.indexOf(".."); i >= 0; i = path.indexOf("..", i + 1)) {
      boolean startsSegment = i == 0 || path.charAt(i - 1) == '/';
      boolean endsSegment = i + 2 == path.length() || path.charAt(i + 2) == '/';
      if (startsSegment && endsSegment) {
        return true;
      }
    }
    return false;
  }

  private static List<String> segments(String path, boolean decode, boolean lowerCase, boolean literal) {
    List<String> out = new ArrayList<>();
    if (path == null) {
      return out;
    }
    int n = path.length();
    int start = 0;
    while (start <= n) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = n;
      }
      String seg = path.substring(start, end);
      int semi = literal ? -1 : seg.indexOf(';');
      if (semi >= 0) {
        seg = seg.substring(0, semi);
      }
      if (decode && seg.indexOf('%') >= 0) {
        seg = percentDecode(seg);
      }
      if (lowerCase) {
        seg = seg.toLowerCase(Locale.ROOT);
      }
      if (!literal && seg.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        }
      } else if (!seg.isEmpty() && !seg.equals(".")) {
        out.add(seg);
      }
      start = end + 1;
    }
    return out;
  }

  static String join(List<String> segments) {
    if (segments.isEmpty()) {
      return "/";
    }
    StringBuilder out = new StringBuilder();
    for (String s : segments) {
      out.append('/').append(s);
    }
    return out.toString();
  }

  /** Decodes %XX sequences as UTF-8; a malformed sequence is kept as it is. */
  static String percentDecode(String s) {
    StringBuilder out = new StringBuilder(s.length());
    ByteArrayOutputStream pending = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
        pending.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
        i += 2;
      } else {
        if (pending.size() > 0) {
          out.append(pending.toString(StandardCharsets.UTF_8));
          pending.reset();
        }
        out.append(c);
      }
    }
    if (pending.size() > 0) {
      out.append(pending.toString(StandardCharsets.UTF_8));
    }
    return out.toString();
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
