package dev.controltower.jaxrs;

import dev.controltower.http.Admission;
import dev.controltower.http.ClientIdentityResolver;
import dev.controltower.http.HeaderField;
import dev.controltower.http.HttpAttributes;
import dev.controltower.http.HttpSettings;
import dev.controltower.http.ProblemResponse;
import dev.controltower.http.ProcessContext;
import dev.controltower.http.QuotaExceededException;
import dev.controltower.http.RequestLimitException;
import dev.controltower.http.RequestGate;
import dev.controltower.http.SharedLimits;
import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.spi.ControlTowerListener;
import jakarta.annotation.Priority;
import jakarta.ws.rs.InternalServerErrorException;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.ResourceContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Configuration;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.security.Principal;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-user, per-route-template rate limits and per-request resource quotas for any Jakarta REST
 * runtime: one provider that is a post-matching request filter, a response filter, and the exception
 * mapper of {@link QuotaExceededException}. It behaves on the wire exactly as the servlet
 * {@code RateLimitFilter} does, because both delegate to one {@link RequestGate}.
 *
 * <p><b>Registration</b>, any one of:
 * <pre>{@code
 * public class App extends Application {               // configured from application properties
 *   public Set<Class<?>> getClasses() { return Set.of(QuotaInterceptor.class, UserResource.class); }
 *   public Map<String, Object> getProperties() { return Map.of("controltower.requests-per-minute", "30"); }
 * }
 * new ResourceConfig().register(new QuotaInterceptor(limiter, tracker));   // built instances
 * new ResourceConfig().register(new QuotaFeature());                        // the Feature
 * }</pre>
 * or {@code @Provider} scanning. Registering it twice, or behind a servlet {@code RateLimitFilter}
 * that already counted the request, counts a request once. Behind such a filter the request keeps the
 * filter's endpoint name and process: {@link RateLimited} cannot apply any more, {@link Quota} still
 * does (its elements replace those of the filter's quota for that process).
 *
 * <p><b>Configuration.</b> The instance constructors take a built limiter and tracker. The no-argument
 * constructor (class registration, scanning) configures itself on the first request: settings from the
 * JAX-RS configuration properties named {@value #PROPERTY_PREFIX} plus the kebab-case parameter names of
 * {@link HttpSettings} ({@code controltower.requests-per-minute}, {@code controltower.trusted-proxies},
 * ...); the limiter and tracker from the servlet context attributes {@link HttpAttributes#RATE_LIMITER}
 * and {@link HttpAttributes#RESOURCE_TRACKER} when a servlet filter of the same webapp published them
 * (so that one user has one budget), else new ones built from the settings and published there. The
 * limiter built here counts in the store of {@code controltower.store}: {@code memory} (default) or
 * {@code redis} ({@code controltower.redis-uri}, {@code controltower.store-timeout},
 * {@code controltower.fail-mode}; the artifact {@code controltower-redis} on the class path).
 * {@link QuotaFeature} checks these properties when the application is deployed, without connecting.
 *
 * <p><b>Metrics.</b> Events go to the limiter's {@link RateLimiter#listener() listener}; a limiter this
 * interceptor builds itself takes the {@link ControlTowerListener} of the servlet-context attribute
 * {@link HttpAttributes#LISTENER}, when there is one.
 *
 * <p><b>Endpoints</b> are the matched route templates, never raw paths: {@code GET /users/{id}} for
 * {@code /users/1} and {@code /users/2} alike. The template is relative to the application path: the
 * class and method {@code @Path}s joined, parameter regular expressions dropped; for a method reached
 * through a sub-resource locator, {@code UriInfo.getMatchedResourceTemplate()}. {@link RateLimited}
 * sets per-endpoint limits and {@link Quota} per-request quotas. A request that matches no resource method (404, 405, ...)
 * counts against the {@code default} endpoint, as a servlet path matching no pattern does; JAX-RS runs
 * no post-matching request filter for it, so it is counted by the response filter, whose error answer
 * becomes the 429 when over the limit. Paths of {@code exclude-paths} are matched against the path
 * within the JAX-RS application ({@code UriInfo.getPath()}, decoded by the runtime), which is excluded only
 * when it is excluded under both readings: literally (a decoded {@code ;} or {@code ..} is a character,
 * as the runtime matched it) and canonically. A decoded path is never decoded or re-read into an
 * excluded one.
 *
 * <p><b>Who the user is</b>: the {@code SecurityContext} principal, else the API-key header, else the
 * client address (read from the servlet request in a servlet container; elsewhere JAX-RS offers no
 * portable way, and such requests share the {@code anonymous} key unless identified otherwise).
 *
 * <p><b>Priority</b> {@value #PRIORITY}: {@code Priorities.AUTHENTICATION + 500}. Post-matching
 * request filters run in ascending priority, so every authentication filter (priority
 * {@code AUTHENTICATION}, 1000, and anything up to 1499) has set the principal before this one counts
 * the request, and the request is counted before authorization (2000) and application filters (5000):
 * refused attempts count too. A request that an earlier filter answers (an authentication filter
 * refusing credentials with {@code abortWith}) never reaches this filter: the response filter counts it
 * against its route template, and over the limit the refusal becomes the 429, so guessing credentials
 * is limited as well. Response filters run in descending priority, so this one adds its header fields
 * after the application's response filters have run.
 *
 * <p><b>The process context.</b> Each admitted request gets a {@link ProcessContext}, published as the
 * request property {@link ProcessContext#ATTRIBUTE}. A resource reaches it portably through the servlet
 * request, exactly as a servlet does, or through {@link #processContext(ContainerRequestContext)} in a
 * filter (and, on Jersey, in a resource taking {@code @Context ContainerRequestContext}):
 * <pre>{@code
 * @POST @Path("/agents/{id}/run") @Quota(maxLlmCalls = 5)
 * public String run(@Context HttpServletRequest request) {
 *   ProcessContext process = (ProcessContext) request.getAttribute(ProcessContext.ATTRIBUTE);
 *   process.recordLlmCall(812, 230);   // over the quota: throws QuotaExceededException -> 429
 *   ...
 * }
 * }</pre>
 * A {@link QuotaExceededException} thrown by the resource (or passed to {@code AsyncResponse.resume})
 * becomes a 429 answer whose problem body names the violation, as the servlet filter sends it; a
 * {@link dev.controltower.http.TokenLimitExceededException} from {@code ProcessContext.reserveTokens}
 * becomes the rate-limit 429 ({@code limit_type} {@code tokens-minute} ...). This provider maps their
 * common superclass {@link RequestLimitException}; to answer differently, register an
 * {@code ExceptionMapper<QuotaExceededException>} (or of the token exception): JAX-RS picks the
 * mapper of the nearest superclass, so yours wins.
 * Unlike the servlet filter, which searches the cause chain, only a {@code QuotaExceededException}
 * itself is mapped here; one wrapped in another exception reaches the application's or the runtime's
 * mapper for that exception.
 *
 * <p><b>Release.</b> The pid is released in the response filter, which JAX-RS runs for every response:
 * normal, aborted, mapped from an exception (Jakarta REST 3.1+ maps every exception, by default to
 * 500), and resumed or cancelled {@code AsyncResponse}s. In a servlet container,
 * {@link ProcessReleaseListener} (registered automatically) releases at the end of the servlet request
 * whatever happened in between, for the paths where a runtime skips the response filter.
 *
 * <p><b>Thread safety.</b> One instance serves all requests concurrently.
 */
@Provider
@Priority(QuotaInterceptor.PRIORITY)
public class QuotaInterceptor
    implements ContainerRequestFilter, ContainerResponseFilter, ExceptionMapper<RequestLimitException> {

  private static final Logger LOG = LoggerFactory.getLogger(QuotaInterceptor.class);

  /** The filter priority: after authentication, before authorization ({@code AUTHENTICATION + 500}). */
  public static final int PRIORITY = Priorities.AUTHENTICATION + 500;

  /**
   * Whether the servlet API can be loaded. Without it {@link ServletBridge}, the one class of the
   * interceptor that names servlet types, is never touched, so the interceptor runs on runtimes that
   * have no servlet API at all.
   */
  static final boolean SERVLET_API = servletApiPresent();

  /** The prefix of the JAX-RS configuration properties read by the no-argument constructor. */
  public static final String PROPERTY_PREFIX = "controltower.";

  /** The request property holding this request's admission, for the response filter. */
  private static final String ADMISSION = "dev.controltower.jaxrs.admission";
  private static final String REQUEST_ID_HEADER = "X-Request-Id";
  /** The problem media type, without a charset parameter (RFC 9457 defines none), as the servlet filter sends it. */
  private static final MediaType PROBLEM_TYPE = MediaType.valueOf(ProblemResponse.CONTENT_TYPE);

  @Context
  private ResourceInfo resourceInfo;

  @Context
  private UriInfo uriInfo;

  @Context
  private Configuration configuration;

  @Context
  private ResourceContext resourceContext;

  private final Object configureLock = new Object();
  private volatile RequestGate gate;
  private boolean configurationFailed; // guarded by configureLock
  private final ConcurrentMap<MethodKey, MethodPolicy> policies = new ConcurrentHashMap<>();
  /** Endpoints whose annotation limits are installed in the limiter (bounded by the application's code). */
  private final ConcurrentMap<String, Boolean> installedLimits = new ConcurrentHashMap<>();

  /**
   * An interceptor that configures itself on the first request, from configuration properties and
   * servlet context attributes (see the class comment). For class registration and scanning.
   */
  public QuotaInterceptor() {}

  /**
   * An interceptor with these instances and {@link HttpSettings#defaults()} for identity and headers.
   *
   * @throws NullPointerException if an argument is null
   */
  public QuotaInterceptor(RateLimiter rateLimiter, ResourceTracker resourceTracker) {
    this(rateLimiter, resourceTracker, HttpSettings.defaults());
  }

  /**
   * An interceptor with these instances and settings (identity rules, exclusions, headers). The
   * settings' quota is every admitted request's quota, which {@link Quota} adjusts per method; the
   * settings' rate limit fills the elements a {@link RateLimited} annotation leaves unset. Unannotated
   * endpoints follow the limiter's own configuration.
   *
   * @throws NullPointerException if an argument is null
   */
  public QuotaInterceptor(RateLimiter rateLimiter, ResourceTracker resourceTracker, HttpSettings settings) {
    this(RequestGate.builder()
        .rateLimiter(Objects.requireNonNull(rateLimiter, "rateLimiter must not be null"))
        .resourceTracker(Objects.requireNonNull(resourceTracker, "resourceTracker must not be null"))
        .settings(Objects.requireNonNull(settings, "settings must not be null"))
        .build());
  }

  /**
   * An interceptor that shares a gate (limiter, tracker and settings) with other adapters, such as a
   * servlet filter of the same webapp.
   *
   * @throws NullPointerException if {@code gate} is null
   */
  public QuotaInterceptor(RequestGate gate) {
    this.gate = Objects.requireNonNull(gate, "gate must not be null");
  }

  /**
   * The process context of a request that this interceptor admitted, for filters and, on runtimes
   * that inject it into resources (Jersey), resource methods.
   *
   * @return the context, or null when the request was not admitted by an interceptor (not matched,
   *     excluded, a CORS preflight, or rejected)
   */
  public static ProcessContext processContext(ContainerRequestContext request) {
    Object context = request.getProperty(ProcessContext.ATTRIBUTE);
    return context instanceof ProcessContext p ? p : null;
  }

  /**
   * The gate this interceptor counts requests in; configures it first if needed. A configuration that
   * fails is logged once, with the property and the value, and every request then answers a bare 500:
   * the configuration is the operator's business, not the client's.
   */
  RequestGate gate() {
    RequestGate g = gate;
    if (g == null) {
      synchronized (configureLock) {
        g = gate;
        if (g == null) {
          if (configurationFailed) {
            throw new InternalServerErrorException();
          }
          try {
            g = configure();
          } catch (IllegalStateException e) {
            configurationFailed = true;
            LOG.error(e.getMessage());
            throw new InternalServerErrorException();
          }
          gate = g;
        }
      }
    }
    return g;
  }

  /** The gate, configured if it can be; null when its configuration failed (already logged). */
  private RequestGate configuredGate() {
    try {
      return gate();
    } catch (InternalServerErrorException configurationFailed) {
      return null;
    }
  }

  private RequestGate configure() {
    HttpSettings settings = settingsFrom(configuration);
    ServletBridge servlet = servletBridge(resourceContext);
    SharedLimits.Shared shared;
    try {
      shared = SharedLimits.findOrPublish("QuotaInterceptor", servlet == null ? null : servlet.attributes(), null,
          null, settings, name -> configuration != null && configuration.getProperty(PROPERTY_PREFIX + name) != null);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("QuotaInterceptor: bad configuration property " + PROPERTY_PREFIX
          + e.getMessage(), e);
    }
    RateLimiter limiter = shared.rateLimiter();
    ResourceTracker tracker = shared.resourceTracker();
    boolean builtHere = shared.limiterBuiltHere();
    LOG.info("QuotaInterceptor ready: {}", builtHere ? "limits " + settings.rateLimit() + ", "
        + (settings.store().isMemory() ? settings.memoryBound() : "store " + settings.store())
        : "a limiter built elsewhere, with its own limits and bound");
    if (settings.trustAnyProxy() && HttpSettings.coversEveryAddress(settings.trustedProxies())) {
      LOG.warn("QuotaInterceptor: trusted-proxies {} covers every address (trust-any-proxy=true): any peer's {}"
          + " is believed, so a client that reaches this server directly chooses its own key",
          settings.trustedProxies(), settings.forwardedHeader());
    }
    return RequestGate.builder().settings(settings).rateLimiter(limiter).resourceTracker(tracker).build();
  }

  private static boolean servletApiPresent() {
    try {
      Class.forName("jakarta.servlet.http.HttpServletRequest", false, QuotaInterceptor.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError absent) {
      return false;
    }
  }

  /** The servlet side of the current request, or null outside a servlet container. */
  static ServletBridge servletBridge(ResourceContext resources) {
    return SERVLET_API ? ServletBridge.current(resources) : null;
  }

  /**
   * Settings from the {@value #PROPERTY_PREFIX}-prefixed configuration properties.
   *
   * @throws IllegalStateException naming the property and the value when one does not parse
   */
  static HttpSettings settingsFrom(Configuration config) {
    try {
      HttpSettings settings = HttpSettings.from(name -> {
        Object value = config == null ? null : config.getProperty(PROPERTY_PREFIX + name);
        return value == null ? null : value.toString();
      });
      settings.store().check(Thread.currentThread().getContextClassLoader());
      return settings;
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("QuotaInterceptor: bad configuration property " + PROPERTY_PREFIX
          + e.getMessage(), e);
    }
  }

  @Override
  public void filter(ContainerRequestContext request) {
    if (HttpAttributes.isDecided(request::getProperty)) {
      if (request.getProperty(ADMISSION) == null) {
        applyQuotaToForeignProcess(request); // a servlet filter in front counted it
      }
      return; // else counted by another registration of this interceptor
    }
    String method = request.getMethod();
    MultivaluedMap<String, String> headers = request.getHeaders();
    if (RequestGate.isPreflight(method, headers::get)) {
      return;
    }
    Method resourceMethod = resourceInfo.getResourceMethod();
    Class<?> resourceClass = resourceInfo.getResourceClass();
    if (resourceMethod == null || resourceClass == null) {
      return; // not matched to a resource method: nothing to name the endpoint by
    }
    RequestGate g = gate();
    if (g.isExcludedDecoded(method, "/" + uriInfo.getPath(true))) {
      return;
    }
    MethodPolicy policy = policy(g, resourceClass, resourceMethod);
    String endpoint = endpoint(g, method, resourceClass, policy);

    request.setProperty(HttpAttributes.COUNTED, Boolean.TRUE);
    String key = clientKey(g, request);
    if (ClientIdentityResolver.AMBIGUOUS.equals(key)) {
      request.abortWith(toResponse(g.ambiguousIdentity()));
      return;
    }
    Admission admission = g.admit(key, endpoint, request.getHeaderString(REQUEST_ID_HEADER), policy.quota());
    if (!admission.admitted()) {
      request.abortWith(toResponse(admission.rejection()));
      return;
    }
    ProcessContext process = admission.process();
    request.setProperty(ADMISSION, admission);
    request.setProperty(ProcessContext.ATTRIBUTE, process);
    request.setProperty(ProcessReleaseListener.RELEASE_ATTRIBUTE, (Runnable) () -> g.release(process));
  }

  /** The endpoint of a matched request, with its annotation limits installed in the limiter. */
  private String endpoint(RequestGate g, String method, Class<?> resourceClass, MethodPolicy policy) {
    // A class without @Path, or a root resource class reached through a locator (more than one matched
    // resource), has a prefix only the runtime knows.
    String template = policy.rootTemplate() != null && uriInfo.getMatchedResources().size() <= 1
        ? policy.rootTemplate() : matchedTemplate(resourceClass);
    String endpoint = RouteTemplate.endpoint(method, template);
    installLimits(g, endpoint, policy.limits());
    return endpoint;
  }

  /**
   * Applies the method's {@link Quota} to the process that a servlet filter in front allocated, so that
   * quota annotations hold behind one too (its rate limits cannot: the request was counted under the
   * filter's endpoint name). The annotation's elements replace those of the process's quota.
   */
  private void applyQuotaToForeignProcess(ContainerRequestContext request) {
    ProcessContext process = processContext(request);
    Method resourceMethod = resourceInfo.getResourceMethod();
    Class<?> resourceClass = resourceInfo.getResourceClass();
    if (process == null || resourceMethod == null || resourceClass == null) {
      return;
    }
    RequestGate g = gate();
    MethodPolicy policy = policy(g, resourceClass, resourceMethod);
    if (policy.quotaOverlay() != null) {
      g.resourceTracker().adjustQuota(process.pid(),
          current -> policy.quotaOverlay().apply(current.build()).toBuilder());
    }
  }

  private MethodPolicy policy(RequestGate g, Class<?> resourceClass, Method resourceMethod) {
    return policies.computeIfAbsent(new MethodKey(resourceClass, resourceMethod),
        k -> MethodPolicy.of(k.resourceClass(), k.method(), g.settings().rateLimit(), g.settings().quota()));
  }

  private String clientKey(RequestGate g, ContainerRequestContext request) {
    ServletBridge servlet = servletBridge(resourceContext);
    SecurityContext security = request.getSecurityContext();
    Principal principal = security == null ? null : security.getUserPrincipal();
    return g.clientKey(principal == null ? null : principal.getName(), request.getHeaders()::get,
        servlet == null ? null : servlet.remoteAddr());
  }

  /** The full template of a sub-resource method, which only the runtime knows (Jakarta REST 4.0). */
  private String matchedTemplate(Class<?> resourceClass) {
    String matched = null;
    try {
      matched = uriInfo.getMatchedResourceTemplate();
    } catch (RuntimeException | AbstractMethodError olderRuntime) {
      // Jakarta REST before 4.0: fall through.
    }
    if (matched != null && !matched.isEmpty()) {
      return RouteTemplate.normalize(matched);
    }
    // Never the raw path: a name bounded by the code, though coarser than the template.
    return "/{sub-resource:" + resourceClass.getName() + "}";
  }

  private void installLimits(RequestGate g, String endpoint, RateLimitConfig limits) {
    if (limits != null && !installedLimits.containsKey(endpoint)) {
      // computeIfAbsent holds back a concurrent first request until the limits are in place
      installedLimits.computeIfAbsent(endpoint, e -> {
        g.rateLimiter().setEndpointLimits(e, limits);
        return Boolean.TRUE;
      });
    }
  }

  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    if (!(request.getProperty(ADMISSION) instanceof Admission admission)) {
      if (!HttpAttributes.isDecided(request::getProperty)) {
        countLate(request, response);
      }
      return; // else rejected (the 429 carries its own fields), or counted elsewhere
    }
    MultivaluedMap<String, Object> out = response.getHeaders();
    for (HeaderField f : admission.headers()) {
      out.putSingle(f.name(), f.value());
    }
    ProcessContext process = admission.process();
    if (response.getStatus() == 429) {
      // A refused token reservation's 429: its fields (remaining 0, the wait) replace the admission's.
      process.tokenRefusal().ifPresent(problem -> problem.headers().forEach(f -> out.putSingle(f.name(), f.value())));
    }
    gate().release(process);
  }

  /**
   * Counts a request that the request filter never saw: one that matched no resource method (404,
   * 405, ...), counted against the {@value RateLimiter#DEFAULT_ENDPOINT} endpoint as the servlet filter
   * counts a path that matches no pattern, and one that an earlier filter answered (an authentication
   * filter refusing credentials), counted against its route template. So neither probing unknown paths
   * nor guessing credentials is free. Over the limit, the error answer becomes the 429.
   */
  private void countLate(ContainerRequestContext request, ContainerResponseContext response) {
    String method = request.getMethod();
    if (RequestGate.isPreflight(method, request.getHeaders()::get)) {
      return;
    }
    RequestGate g = configuredGate();
    if (g == null || g.isExcludedDecoded(method, "/" + uriInfo.getPath(true))) {
      return;
    }
    Method resourceMethod = resourceInfo.getResourceMethod();
    Class<?> resourceClass = resourceInfo.getResourceClass();
    String endpoint;
    try {
      endpoint = resourceMethod == null || resourceClass == null ? RateLimiter.DEFAULT_ENDPOINT
          : endpoint(g, method, resourceClass, policy(g, resourceClass, resourceMethod));
    } catch (IllegalArgumentException badAnnotation) {
      return; // the request filter failed on it already, and the answer says so
    }
    request.setProperty(HttpAttributes.COUNTED, Boolean.TRUE);
    String key = clientKey(g, request);
    MultivaluedMap<String, Object> out = response.getHeaders();
    if (ClientIdentityResolver.AMBIGUOUS.equals(key)) {
      answer(response, out, g.ambiguousIdentity());
      return;
    }
    Admission admission = g.admit(key, endpoint, null);
    if (admission.admitted()) {
      g.release(admission.process()); // nothing runs for this request any more
      for (HeaderField f : admission.headers()) {
        out.putSingle(f.name(), f.value());
      }
      return;
    }
    answer(response, out, admission.rejection());
  }

  /** Replaces a response that is on its way out with a problem answer. */
  private static void answer(ContainerResponseContext response, MultivaluedMap<String, Object> out,
      ProblemResponse problem) {
    response.setStatus(problem.status());
    for (HeaderField f : problem.headers()) {
      out.putSingle(f.name(), f.value());
    }
    response.setEntity(problem.body(), new Annotation[0], PROBLEM_TYPE);
  }

  /**
   * Answers a request that must end: a quota violation ({@link QuotaExceededException}: 429,
   * {@code Cache-Control: no-store} and a problem body naming the violation code, as
   * {@link ProblemResponse#quotaExceeded} renders it) or a refused token reservation
   * ({@link dev.controltower.http.TokenLimitExceededException}: the rate-limit 429).
   */
  @Override
  public Response toResponse(RequestLimitException exception) {
    return toResponse(exception.problem());
  }

  private static Response toResponse(ProblemResponse problem) {
    Response.ResponseBuilder r = Response.status(problem.status());
    for (HeaderField f : problem.headers()) {
      r.header(f.name(), f.value());
    }
    return r.entity(problem.body()).type(PROBLEM_TYPE).build();
  }

  /** A resource method as matched on a resource class (an inherited method may serve several). */
  private record MethodKey(Class<?> resourceClass, Method method) {}
}
