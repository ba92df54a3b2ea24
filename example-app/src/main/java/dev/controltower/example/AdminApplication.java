package dev.controltower.example;

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
 * The admin JSON API, a Jersey application of its own (mounted at {@code /admin/api/*}) so that the
 * users' rate limits never apply to operators. Every call needs the admin token, as
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
    register(new TokenCheck(adminToken));
  }

  /** Refuses every request that lacks the admin token, comparing in constant time. */
  static final class TokenCheck implements ContainerRequestFilter {
    private final byte[] token;

    TokenCheck(String token) {
      this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void filter(ContainerRequestContext request) {
      String presented = request.getHeaderString("X-Admin-Token");
      String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
      if (presented == null && authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
        presented = authorization.substring(7).trim();
      }
      if (presented == null || !MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
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
