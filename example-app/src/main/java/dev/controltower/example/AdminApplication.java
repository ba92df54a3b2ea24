package dev.controltower.example;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitResult;
import dev.controltower.resources.RateLimiter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.Context;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;

/**
 * The admin JSON API ({@code /admin/api/*}) and the metrics scrape ({@code /admin/metrics}), a Jersey
 * application of its own (mounted at {@code /admin/*}) so that the users' rate limits never apply to
 * operators. Every call needs the admin token, as
 * {@code Authorization: Bearer <token>} or {@code X-Admin-Token: <token>}; without it the answer is 401.
 */
public final class AdminApplication extends ResourceConfig {

  /**
   * The admin application; its resource finds the shared limiter and tracker in the servlet context.
   *
   * @param adminToken the token every call must carry
   */
  public AdminApplication(String adminToken) {
    property(ServerProperties.WADL_FEATURE_DISABLE, true);
    register(JacksonFeature.class);
    register(AdminResource.class);
    register(MetricsResource.class);
    register(new TokenCheck(adminToken, failedAttemptLimiter()));
    // Admin answers hold live usage and quotas: no cache (browser, proxy) keeps a copy.
    register((ContainerResponseFilter) (request, response) -> response.getHeaders().putSingle("Cache-Control", "no-store"));
  }

  /** The most failed admin attempts a client may make: 10 per minute, 100 per hour. */
  static final RateLimitConfig FAILED_ATTEMPTS = RateLimitConfig.builder().requestsPerMinute(10).requestsPerHour(100)
      .requestsPerDay(0).build();

  /** Counts failed attempts per client with the kit's own limiter; bounded, whatever addresses try. */
  static RateLimiter failedAttemptLimiter() {
    return RateLimiter.builder().defaultConfig(FAILED_ATTEMPTS).maximumKeys(10_000).build();
  }

  /**
   * Refuses every request that lacks the admin token, comparing in constant time. Failed attempts are
   * counted per client address in a {@link RateLimiter} ({@link #FAILED_ATTEMPTS}); a client over that
   * budget gets 429 with {@code Retry-After} for every request, the right token included, until its
   * failures leave the window, so that guessing the token is slow. Successes cost nothing.
   */
  static final class TokenCheck implements ContainerRequestFilter {
    private static final String ENDPOINT = "admin-token";
    private final byte[] token;
    private final RateLimiter failures;

    @Context
    private HttpServletRequest servletRequest;

    TokenCheck(String token, RateLimiter failures) {
      this.token = token.getBytes(StandardCharsets.UTF_8);
      this.failures = failures;
    }

    @Override
    public void filter(ContainerRequestContext request) {
      String client = "ip:" + (servletRequest == null ? "unknown" : servletRequest.getRemoteAddr());
      RateLimitResult budget = failures.checkRateLimit(client, ENDPOINT, false);
      if (budget.exceeded()) {
        request.abortWith(Response.status(Response.Status.TOO_MANY_REQUESTS)
            .header("Retry-After", Long.toString(Math.max(1, (long) Math.ceil(budget.retryAfterSeconds()))))
            .header("Cache-Control", "no-store")
            .type(MediaType.APPLICATION_JSON_TYPE)
            .entity(Map.of("error", "too_many_failed_attempts",
                "detail", "too many requests without the admin token from this address; retry later"))
            .build());
        return;
      }
      String presented = request.getHeaderString("X-Admin-Token");
      String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
      if (presented == null && authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        presented = authorization.substring(7).trim();
      }
      if (presented == null || !MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
        failures.checkRateLimit(client, ENDPOINT);
        request.abortWith(Response.status(Response.Status.UNAUTHORIZED)
            .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"controltower-admin\"")
            .header("Cache-Control", "no-store")
            .type(MediaType.APPLICATION_JSON_TYPE)
            .entity(Map.of("error", "unauthorized", "detail", "this endpoint needs the admin token"))
            .build());
      }
    }
  }
}
