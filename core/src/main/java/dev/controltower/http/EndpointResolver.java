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
  /** The counted decision of each pattern, in pattern order, and of the default endpoint: made once. */
  private final PathDecision[] decisions;
  private final PathDecision defaultDecision = PathDecision.counted(RateLimiter.DEFAULT_ENDPOINT);

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
    this.decisions = new PathDecision[patterns.size()];
    for (int i = 0; i < decisions.length; i++) {
      decisions[i] = PathDecision.counted(patterns.get(i).name());
    }
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

  /**
   * What to do with a request whose path its container has already decoded and used to pick the
   * servlet ({@code servletPath + pathInfo}). The container read a {@code ;}, {@code ..} or {@code %}
   * left in such a path as a literal character (it was sent as {@code %3B}, {@code %2E%2E},
   * {@code %25}), so the decision is made on that reading, segment by segment, with nothing decoded or
   * cut again. When the path holds a {@code ;} or a {@code ..} segment, it is also read the canonical
   * way (parameters cut, dot segments resolved), as a container with other rules might have read it;
   * where the two readings differ, the request is never passed uncounted:
   *
   * <ul>
   *   <li>one reading excluded, the other counted against an endpoint: counted against that endpoint;
   *   <li>both counted, against different endpoints: {@link PathDecision#AMBIGUOUS} (the adapter
   *       answers 400), since neither bucket can be trusted to be the one the servlet serves.
   * </ul>
   *
   * @param method the request method, as sent
   * @param path the path within the application, as the container decoded it
   * @return the decision; instances are shared, so this allocates only the path's segments
   */
  public PathDecision route(String method, String path) {
    if (!usesPaths()) {
      return defaultDecision;
    }
    PathDecision literal = decide(method, Paths.literalSegments(path, caseInsensitive));
    if (!Paths.readsTwoWays(path)) {
      return literal;
    }
    PathDecision canonical = decide(method, Paths.segments(path, false, caseInsensitive));
    if (literal == canonical) {
      return literal;
    }
    if (literal == PathDecision.EXCLUDED) {
      return canonical;
    }
    if (canonical == PathDecision.EXCLUDED) {
      return literal;
    }
    return PathDecision.AMBIGUOUS;
  }

  /**
   * Whether a path that its runtime has already decoded is excluded under both readings of
   * {@link #route}: the literal one and the canonical one. Where they differ, the request is counted.
   * For adapters that name the endpoint otherwise (JAX-RS route templates).
   *
   * @param method the request method, as sent
   * @param path the path within the application, as the runtime decoded it
   */
  public boolean isExcludedDecoded(String method, String path) {
    if (excludes.isEmpty()) {
      return false;
    }
    if (!matchesAny(excludes, method, Paths.literalSegments(path, caseInsensitive))) {
      return false;
    }
    return !Paths.readsTwoWays(path) || matchesAny(excludes, method, Paths.segments(path, false, caseInsensitive));
  }

  private PathDecision decide(String method, List<String> segments) {
    if (matchesAny(excludes, method, segments)) {
      return PathDecision.EXCLUDED;
    }
    for (int i = 0; i < decisions.length; i++) {
      if (patterns.get(i).matches(method, segments)) {
        return decisions[i];
      }
    }
    return defaultDecision;
  }

  private static boolean matchesAny(List<PathPattern> list, String method, List<String> segments) {
    for (PathPattern p : list) {
      if (p.matches(method, segments)) {
        return true;
      }
    }
    return false;
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
