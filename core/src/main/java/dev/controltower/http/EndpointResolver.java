package dev.controltower.http;

import dev.controltower.resources.RateLimiter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Names the endpoint a request counts against, from its method and path, so that every spelling of one
 * path lands in one bucket and no client can create a bucket per raw path.
 *
 * <p>The path is first made canonical: path parameters ({@code ;jsessionid=...}) are cut from every
 * segment, percent-encoding is decoded once (when asked: servlet paths arrive decoded already), empty and
 * {@code .} segments are dropped, {@code ..} removes the segment before it, and, when configured, case
 * is folded. So {@code /api/x/}, {@code //api/x}, {@code /api/./x}, {@code /api/y/../x},
 * {@code /api/x;jsessionid=1} and {@code /api/%78} are all {@code /api/x}. The canonical path is then
 * matched against the endpoint patterns in order ({@link HttpSettings#endpointPatterns()}); the first
 * match names the endpoint (the pattern's canonical text, such as {@code /api/users/*} or
 * {@code GET /api/users/{id}}). A path that matches none is {@value RateLimiter#DEFAULT_ENDPOINT}.
 * Endpoint limits ({@link RateLimiter#setEndpointLimits}) are keyed by these names.
 *
 * <p>Immutable and thread-safe.
 */
public final class EndpointResolver {
  private final List<PathPattern> patterns;
  private final List<PathPattern> excludes;
  private final boolean caseInsensitive;

  /**
   * A resolver with the patterns of {@code settings}.
   *
   * @throws NullPointerException if {@code settings} is null
   */
  public EndpointResolver(HttpSettings settings) {
    Objects.requireNonNull(settings, "settings must not be null");
    this.caseInsensitive = settings.caseInsensitivePaths();
    this.patterns = compile("endpointPatterns", settings.endpointPatterns());
    this.excludes = compile("excludePaths", settings.excludePaths());
  }

  private List<PathPattern> compile(String parameter, List<String> texts) {
    List<PathPattern> out = new ArrayList<>(texts.size());
    for (String t : texts) {
      out.add(PathPattern.compile(parameter, t, caseInsensitive));
    }
    return List.copyOf(out);
  }

  /**
   * The canonical form of a path (see the class comment), always starting with {@code /}.
   *
   * @param path the path, raw or decoded; {@code null} or empty is {@code /}
   * @param decode whether to percent-decode each segment once (false for paths a container decoded)
   * @param lowerCase whether to fold case
   */
  public static String canonicalPath(String path, boolean decode, boolean lowerCase) {
    return Paths.join(Paths.segments(path, decode, lowerCase));
  }

  /**
   * Which endpoint a request counts against.
   *
   * @param method the request method, as sent
   * @param path the request path within the application
   * @param decode whether {@code path} is still percent-encoded
   * @return a pattern's name, or {@value RateLimiter#DEFAULT_ENDPOINT}; never the raw path
   */
  public String endpoint(String method, String path, boolean decode) {
    if (patterns.isEmpty()) {
      return RateLimiter.DEFAULT_ENDPOINT;
    }
    List<String> segments = Paths.segments(path, decode, caseInsensitive);
    for (PathPattern p : patterns) {
      if (p.matches(method, segments)) {
        return p.name();
      }
    }
    return RateLimiter.DEFAULT_ENDPOINT;
  }

  /** Whether any pattern or exclusion looks at the path; when not, every path gives the same answers. */
  public boolean usesPaths() {
    return !patterns.isEmpty() || !excludes.isEmpty();
  }

  /**
   * Whether a request is excluded from limits and tracking ({@link HttpSettings#excludePaths()}).
   *
   * @param method the request method, as sent
   * @param path the request path within the application
   * @param decode whether {@code path} is still percent-encoded
   */
  public boolean isExcluded(String method, String path, boolean decode) {
    if (excludes.isEmpty()) {
      return false;
    }
    List<String> segments = Paths.segments(path, decode, caseInsensitive);
    for (PathPattern p : excludes) {
      if (p.matches(method, segments)) {
        return true;
      }
    }
    return false;
  }
}
