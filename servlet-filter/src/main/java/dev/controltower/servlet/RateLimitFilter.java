package dev.controltower.servlet;

import dev.controltower.http.Admission;
import dev.controltower.http.ClientIdentityResolver;
import dev.controltower.http.HeaderField;
import dev.controltower.http.HttpAttributes;
import dev.controltower.http.HttpSettings;
import dev.controltower.http.PathDecision;
import dev.controltower.http.ProblemResponse;
import dev.controltower.http.ProcessContext;
import dev.controltower.http.QuotaExceededException;
import dev.controltower.http.RequestLimitException;
import dev.controltower.http.RequestGate;
import dev.controltower.http.SharedLimits;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.ControlTowerListener;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A drop-in servlet filter that rate-limits every request per user and per endpoint, answers 429 with
 * {@code Retry-After}, {@code RateLimit-Policy}, {@code RateLimit} and an {@code application/problem+json}
 * body, and gives each admitted request a process (pid) in a {@link ResourceTracker} that the servlet
 * records LLM calls, tool calls, hops, iterations and tokens into.
 *
 * <pre>{@code
 * <filter>
 *   <filter-name>rate-limit</filter-name>
 *   <filter-class>dev.controltower.servlet.RateLimitFilter</filter-class>
 *   <async-supported>true</async-supported>
 *   <init-param><param-name>requests-per-minute</param-name><param-value>60</param-value></init-param>
 *   <init-param><param-name>endpoint-patterns</param-name><param-value>/api/users/*, /api/search</param-value></init-param>
 *   <init-param><param-name>max-llm-calls</param-name><param-value>5</param-value></init-param>
 * </filter>
 * <filter-mapping><filter-name>rate-limit</filter-name><url-pattern>/*</url-pattern></filter-mapping>
 * }</pre>
 *
 * Every parameter, with its default, is listed in {@link HttpSettings}. A bad value fails {@link #init}
 * with a message that names the parameter and the value; an unknown parameter name fails too.
 *
 * <p>In the servlet, the request's process is the request attribute {@link ProcessContext#ATTRIBUTE}:
 * <pre>{@code
 * ProcessContext process = (ProcessContext) request.getAttribute(ProcessContext.ATTRIBUTE);
 * process.recordLlmCall(tokensIn, tokensOut);   // QuotaExceededException -> 429 with the violation code
 * }</pre>
 *
 * <p><b>What is counted.</b> Only the REQUEST dispatch, once, even when the filter is registered twice
 * (FORWARD, INCLUDE, ERROR and ASYNC dispatches pass through); not a CORS preflight; not a path of
 * {@code exclude-paths}. The path is {@code servletPath + pathInfo} as the container decoded it and
 * used it to pick the servlet: a {@code ;} or {@code ..} in it (sent encoded) is taken literally, as the
 * container took it; where another reading could name a different endpoint the request is counted
 * against the endpoint, never passed as excluded, or answered 400 (see
 * {@link dev.controltower.http.EndpointResolver#route}). The user is the principal, else the hashed {@code user-header}, else the client
 * IP (see {@link dev.controltower.http.ClientIdentityResolver}); the endpoint is the first matching
 * {@code endpoint-patterns} entry for {@code servletPath + pathInfo}, else {@code default} (see
 * {@link dev.controltower.http.EndpointResolver}).
 *
 * <p><b>Release.</b> The pid is released when the chain returns, whatever it throws, or, for a request
 * that went async, on the {@link AsyncListener} complete, error or timeout event. A
 * {@link QuotaExceededException} from the chain (possibly wrapped) becomes a 429 unless the response is
 * already committed; any other exception propagates unchanged.
 *
 * <p><b>Store.</b> A limiter built here counts in the store of the {@code store} parameter:
 * {@code memory} (the default) in this process, {@code redis} in one Redis shared by every instance
 * ({@code redis-uri}, {@code store-timeout}, {@code fail-mode}; the artifact
 * {@code controltower-redis} on the class path). {@link #destroy} closes that store.
 *
 * <p><b>Sharing.</b> The limiter and tracker are, in order: the ones given to the constructor, else the
 * ones found in the servlet-context attributes {@link HttpAttributes#RATE_LIMITER} and
 * {@link HttpAttributes#RESOURCE_TRACKER}, else new ones built from the parameters. Whatever is used is
 * published in those attributes when they are unset, so that a JAX-RS application in the same webapp
 * finds the same budgets (both adapters go through {@link SharedLimits}).
 *
 * <p><b>Metrics.</b> Events (admitted, rejected, processes, quota violations) go to the limiter's
 * {@link RateLimiter#listener() listener}. A limiter this filter builds itself takes the
 * {@link ControlTowerListener} found in the servlet-context attribute {@link HttpAttributes#LISTENER}.
 *
 * <p><b>Thread safety.</b> After {@link #init}, {@link #doFilter} may be called from any number of
 * threads.
 */
public final class RateLimitFilter implements Filter {
  private static final Logger LOG = LoggerFactory.getLogger(RateLimitFilter.class);

  private final RateLimiter givenLimiter;
  private final ResourceTracker givenTracker;
  private volatile RequestGate gate;
  /** The limiter this filter built (whose store it closes in {@link #destroy}), or null. */
  private volatile RateLimiter built;
  /** The context it was published in, or null. */
  private volatile ServletContext builtContext;

  /** The filter as a container creates it from {@code web.xml}; it is configured by {@link #init}. */
  public RateLimitFilter() {
    this.givenLimiter = null;
    this.givenTracker = null;
  }

  /**
   * A filter for embedded use that counts in {@code limiter} and tracks in {@code tracker}; its
   * init-parameters still set identity, endpoint and quota rules. The rate-limit parameters
   * ({@code requests-per-*}, {@code burst-size}) are then ignored, with a warning at {@link #init}:
   * configure the limiter instead. The same holds when the limiter comes from the servlet context.
   *
   * @throws NullPointerException if an argument is null
   */
  public RateLimitFilter(RateLimiter limiter, ResourceTracker tracker) {
    this.givenLimiter = Objects.requireNonNull(limiter, "limiter must not be null");
    this.givenTracker = Objects.requireNonNull(tracker, "tracker must not be null");
  }

  /**
   * Reads the init-parameters and finds or builds the limiter and tracker.
   *
   * @throws ServletException naming the parameter and the value when one is invalid
   */
  @Override
  public void init(FilterConfig config) throws ServletException {
    Map<String, String> params = new LinkedHashMap<>();
    for (Enumeration<String> names = config.getInitParameterNames(); names.hasMoreElements();) {
      String name = names.nextElement();
      params.put(name, config.getInitParameter(name));
    }
    HttpSettings settings;
    try {
      settings = HttpSettings.fromMap(params);
    } catch (IllegalArgumentException e) {
      throw new ServletException("RateLimitFilter " + config.getFilterName() + ": " + e.getMessage(), e);
    }
    ServletContext context = config.getServletContext();
    SharedLimits.Shared shared;
    try {
      shared = SharedLimits.findOrPublish("RateLimitFilter " + config.getFilterName(),
          context == null ? null : new Attributes(context), givenLimiter, givenTracker, settings,
          params::containsKey);
    } catch (IllegalArgumentException e) {
      throw new ServletException("RateLimitFilter " + config.getFilterName() + ": " + e.getMessage(), e);
    }
    RateLimiter limiter = shared.rateLimiter();
    ResourceTracker tracker = shared.resourceTracker();
    boolean builtHere = shared.limiterBuiltHere();
    if (builtHere) {
      built = limiter;
      builtContext = context;
    }
    gate = RequestGate.builder().settings(settings).rateLimiter(limiter).resourceTracker(tracker).build();
    LOG.info("RateLimitFilter {} ready: {}, endpoints {}", config.getFilterName(),
        builtHere ? "limits " + settings.rateLimit() + ", " + (settings.store().isMemory() ? settings.memoryBound()
            : "store " + settings.store())
            : "a limiter built elsewhere, with its own limits and bound",
        settings.endpointPatterns());
    if (settings.trustAnyProxy() && HttpSettings.coversEveryAddress(settings.trustedProxies())) {
      LOG.warn("RateLimitFilter {}: trusted-proxies {} covers every address (trust-any-proxy=true): any peer's {}"
          + " is believed, so a client that reaches this server directly chooses its own key",
          config.getFilterName(), settings.trustedProxies(), settings.forwardedHeader());
    }
  }

  /** The gate this filter admits requests through; {@code null} before {@link #init}. */
  public RequestGate gate() {
    return gate;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
    RequestGate g = gate;
    if (g == null) {
      throw new ServletException("RateLimitFilter used before init()");
    }
    if (!(req instanceof HttpServletRequest request) || !(res instanceof HttpServletResponse response)
        || request.getDispatcherType() != DispatcherType.REQUEST || HttpAttributes.isDecided(request::getAttribute)) {
      chain.doFilter(req, res);
      return;
    }
    String method = request.getMethod();
    Function<String, List<String>> headers = name -> {
      Enumeration<String> values = request.getHeaders(name);
      return values == null ? List.of() : Collections.list(values);
    };
    // Without endpoint patterns and exclusions no path is looked at: not building it saves work per request.
    // The path is the one the container decoded and mapped; route() never decodes or re-reads it.
    PathDecision route = g.route(method, g.usesPaths() ? pathOf(request) : "/");
    // The first registration's decision is final for the request: a pass is marked COUNTED, an admitted
    // request carries its process (see HttpAttributes.COUNTED), and a rejected one goes no further.
    if (RequestGate.isPreflight(method, headers) || route.kind() == PathDecision.Kind.EXCLUDED) {
      request.setAttribute(HttpAttributes.COUNTED, Boolean.TRUE);
      chain.doFilter(req, res);
      return;
    }
    if (route.kind() == PathDecision.Kind.AMBIGUOUS) {
      request.setAttribute(HttpAttributes.COUNTED, Boolean.TRUE);
      write(response, ProblemResponse.ambiguousPath());
      return;
    }
    Principal principal = request.getUserPrincipal();
    String key = g.clientKey(principal == null ? null : principal.getName(), headers, request.getRemoteAddr());
    if (ClientIdentityResolver.AMBIGUOUS.equals(key)) {
      request.setAttribute(HttpAttributes.COUNTED, Boolean.TRUE);
      write(response, g.ambiguousIdentity());
      return;
    }
    String requestId = g.settings().trustRequestId() ? request.getHeader("X-Request-Id") : null;
    Admission admission = g.admit(key, route.endpoint(), requestId);
    if (!admission.admitted()) {
      write(response, admission.rejection());
      return;
    }
    ProcessContext process = admission.process();
    boolean releaseNow = true;
    try {
      // Set, not added: a filter in front may have written one of these names already, and the kit's
      // value must be the only one. (Adding measured no faster on Jetty.)
      setHeaders(response, admission.headers());
      request.setAttribute(ProcessContext.ATTRIBUTE, process);
      chain.doFilter(request, response);
    } catch (IOException | ServletException | RuntimeException e) {
      RequestLimitException limit = RequestLimitException.findIn(e);
      if (limit == null || response.isCommitted()) {
        throw e;
      }
      response.reset();
      setHeaders(response, admission.headers());
      write(response, limit.problem()); // its fields (a token refusal's) replace the admission's
    } finally {
      if (request.isAsyncStarted()) {
        try {
          request.getAsyncContext().addListener(new Releaser(g, process));
          releaseNow = false;
        } catch (IllegalStateException completedMeanwhile) {
          // the async cycle ended between the two calls: nothing will fire, release here
        }
      }
      if (releaseNow) {
        g.release(process);
      }
    }
  }

  /** The path within the application: servlet path plus path info, as the container decoded them. */
  private static String pathOf(HttpServletRequest request) {
    String info = request.getPathInfo();
    return info == null ? request.getServletPath() : request.getServletPath() + info;
  }

  private static void setHeaders(HttpServletResponse response, List<HeaderField> fields) {
    for (HeaderField f : fields) {
      response.setHeader(f.name(), f.value());
    }
  }

  private static void write(HttpServletResponse response, ProblemResponse problem) throws IOException {
    response.setStatus(problem.status());
    setHeaders(response, problem.headers());
    // No charset parameter: application/problem+json defines none (RFC 9457); the bytes are UTF-8.
    response.setContentType(ProblemResponse.CONTENT_TYPE);
    byte[] body = problem.body().getBytes(StandardCharsets.UTF_8);
    response.setContentLength(body.length);
    try {
      ServletOutputStream out = response.getOutputStream();
      out.write(body);
      out.flush();
    } catch (IllegalStateException writerInUse) {
      response.getWriter().write(problem.body());
      response.getWriter().flush();
    }
  }

  /**
   * Closes the store of a limiter this filter built from {@code store=redis} (its connection and
   * threads); the webapp is going away, and with it the other adapters that may share the limiter. A
   * limiter given to the constructor or found in the servlet context is left to its owner.
   */
  @Override
  public void destroy() {
    RateLimiter limiter = built;
    ServletContext c = builtContext;
    built = null;
    builtContext = null;
    if (c != null) {
      SharedLimits.closeBuilt(new Attributes(c));
    } else if (limiter != null) {
      HttpSettings.closeStore(limiter);
    }
  }

  /** The servlet context's attributes, for {@link SharedLimits}. */
  private record Attributes(ServletContext context) implements SharedLimits.Context {
    @Override
    public Object getAttribute(String name) {
      return context.getAttribute(name);
    }

    @Override
    public void setAttribute(String name, Object value) {
      context.setAttribute(name, value);
    }
  }

  /** Releases the pid of an async request once its cycle ends, however it ends. */
  private static final class Releaser implements AsyncListener {
    private final RequestGate gate;
    private final ProcessContext process;

    Releaser(RequestGate gate, ProcessContext process) {
      this.gate = gate;
      this.process = process;
    }

    @Override
    public void onComplete(AsyncEvent event) {
      gate.release(process);
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      gate.release(process);
    }

    @Override
    public void onError(AsyncEvent event) {
      gate.release(process);
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
      AsyncContext next = event.getAsyncContext();
      if (next != null) {
        next.addListener(this); // listeners are dropped when async is restarted
      }
    }
  }
}
