package dev.controltower.example;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.ServletContext;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;

/**
 * {@code GET /admin/metrics}: every meter of the app's registry in the Prometheus text format, for a
 * Prometheus scrape (with the admin token as its bearer token) and for the dashboard's request-rate
 * chart. The registry holds the kit's meters only ({@code controltower_*}; see the micrometer module's
 * README for their tags and bound).
 */
@Path("metrics")
public final class MetricsResource {
  /** The Prometheus text exposition format, version 0.0.4. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;

  /**
   * Jersey creates one per request.
   *
   * @param context the webapp's servlet context, where {@link ExampleApp} put the registry
   */
  public MetricsResource(@Context ServletContext context) {
    this.registry = (PrometheusMeterRegistry) context.getAttribute(ExampleApp.REGISTRY_ATTRIBUTE);
  }

  /** The scrape. */
  @GET
  @Produces(CONTENT_TYPE)
  public String scrape() {
    return registry.scrape();
  }
}
