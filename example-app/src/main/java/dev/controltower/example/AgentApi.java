package dev.controltower.example;

import dev.controltower.http.ProcessContext;
import dev.controltower.jaxrs.Quota;
import dev.controltower.jaxrs.QuotaInterceptor;
import dev.controltower.jaxrs.RateLimited;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import jakarta.servlet.ServletContext;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.Map;
import org.glassfish.jersey.jackson.JacksonFeature;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;

/**
 * The JAX-RS half of the demo, mounted at {@code /v1/*}: one {@link QuotaInterceptor}, sharing the
 * servlet filter's limiter and tracker, limits every resource per route template and gives each request
 * a process.
 */
public final class AgentApi extends ResourceConfig {

  /**
   * @param limiter the shared limiter
   * @param tracker the shared tracker
   */
  public AgentApi(RateLimiter limiter, ResourceTracker tracker) {
    property(ServerProperties.WADL_FEATURE_DISABLE, true);
    register(JacksonFeature.class);
    register(new QuotaInterceptor(limiter, tracker));
    register(Agents.class);
    register(Users.class);
  }

  /** {@code GET /v1/users/{id}}: every id counts against its caller's bucket {@code GET /users/{id}}. */
  @Path("/users")
  @Produces(MediaType.APPLICATION_JSON)
  public static final class Users {
    /** A made-up profile. */
    @GET
    @Path("{id}")
    public Map<String, Object> user(@PathParam("id") String id) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("id", id.length() > 64 ? id.substring(0, 64) : id);
      out.put("plan", "free");
      return out;
    }
  }

  /**
   * {@code POST /v1/agents/{name}/run?steps=N}: the agent loop again, with its quota and its rate limit
   * declared by annotations: 6 LLM calls per run, 10 runs per minute.
   */
  @Path("/agents")
  @Produces(MediaType.APPLICATION_JSON)
  @Quota(maxLlmCalls = 6, timeoutSeconds = 120)
  public static final class Agents {
    private final FakeAgent agent;

    /**
     * Jersey creates one per request, with the app's settings from the servlet context.
     *
     * @param context the webapp's servlet context
     */
    public Agents(@Context ServletContext context) {
      AppConfig config = (AppConfig) context.getAttribute(ExampleApp.CONFIG_ATTRIBUTE);
      this.agent = new FakeAgent(config == null ? 0 : config.llmLatencyMillis());
    }

    /** Runs the agent named in the path. */
    @POST
    @Path("{name}/run")
    @RateLimited(requestsPerMinute = 10)
    public Map<String, Object> run(@PathParam("name") String name, @QueryParam("steps") @DefaultValue("4") int steps,
        @Context ContainerRequestContext request) throws InterruptedException {
      ProcessContext process = QuotaInterceptor.processContext(request);
      int bounded = Math.max(1, Math.min(steps, 1_000));
      return agent.run(process, "agent " + (name.length() > 64 ? name.substring(0, 64) : name), bounded, -1);
    }
  }
}
