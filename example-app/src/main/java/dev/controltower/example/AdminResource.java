package dev.controltower.example;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceQuota;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.resources.ResourceUsage;
import dev.controltower.resources.SystemUsage;
import dev.controltower.resources.WindowUsage;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.Consumes;
import jakarta.servlet.ServletContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import dev.controltower.http.HttpAttributes;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin endpoints. Names in JSON follow the design document (snake_case), so that what an operator
 * reads here is what they send back in a quota adjustment.
 */
@Path("api")
@Produces(MediaType.APPLICATION_JSON)
public final class AdminResource {
  /** The largest quota-adjustment body read. */
  static final int MAX_BODY_BYTES = 4096;
  /** The deepest JSON nesting a quota-adjustment body may have (the valid ones have 1). */
  static final int MAX_NESTING = 8;
  /** The most characters of a request's name or value quoted back in an answer. */
  static final int MAX_QUOTED = 64;
  /** Reads quota-adjustment bodies under tight limits, so that no body can cost a stack or a heap. */
  private static final ObjectMapper BODY_READER = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).maxStringLength(MAX_BODY_BYTES)
          .maxNumberLength(32).build())
      .build());

  /** The most (user, endpoint) pairs listed at once. */
  static final int MAX_LISTED_KEYS = 500;

  private final RateLimiter limiter;
  private final ResourceTracker tracker;

  /**
   * Jersey creates one per request; the shared instances come from the servlet context, where
   * {@link ExampleApp} put them.
   *
   * @param context the webapp's servlet context
   */
  public AdminResource(@Context ServletContext context) {
    this.limiter = (RateLimiter) context.getAttribute(HttpAttributes.RATE_LIMITER);
    this.tracker = (ResourceTracker) context.getAttribute(HttpAttributes.RESOURCE_TRACKER);
  }

  /** System-wide totals. */
  @GET
  @Path("system")
  public Map<String, Object> system() {
    SystemUsage s = tracker.getSystemUsage();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total_processes", s.totalProcesses());
    out.put("active_processes", s.activeProcesses());
    out.put("system_llm_calls", s.systemLlmCalls());
    out.put("system_tool_calls", s.systemToolCalls());
    out.put("system_agent_hops", s.systemAgentHops());
    out.put("system_tokens_in", s.systemTokensIn());
    out.put("system_tokens_out", s.systemTokensOut());
    out.put("tracked_rate_limit_keys", limiter.trackedKeys());
    return out;
  }

  /** Every tracked process with its usage, quota and remaining budget. */
  @GET
  @Path("processes")
  public List<Map<String, Object>> processes() {
    List<Map<String, Object>> out = new ArrayList<>();
    tracker.getAllUsage().forEach((pid, usage) -> {
      Map<String, Object> p = process(pid, usage);
      if (p != null) {
        out.add(p);
      }
    });
    out.sort(Comparator.comparing(p -> String.valueOf(p.get("pid"))));
    return out;
  }

  /** One process. */
  @GET
  @Path("processes/{pid}")
  public Response process(@PathParam("pid") String pid) {
    Map<String, Object> p = tracker.getUsage(pid).map(u -> process(pid, u)).orElse(null);
    return p == null ? notFound("no tracked process " + brief(pid)) : Response.ok(p).build();
  }

  private Map<String, Object> process(String pid, ResourceUsage usage) {
    ResourceQuota quota = tracker.getQuota(pid).orElse(null);
    if (quota == null) {
      return null;
    }
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("pid", pid);
    p.put("usage", usage(usage));
    p.put("quota", quota.asMap());
    tracker.getRemainingBudget(pid).ifPresent(b -> {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("llm_calls", b.llmCalls());
      r.put("tool_calls", b.toolCalls());
      r.put("agent_hops", b.agentHops());
      r.put("iterations", b.iterations());
      r.put("time_seconds", b.timeSeconds());
      p.put("remaining", r);
    });
    tracker.checkQuota(pid).ifPresent(v -> p.put("violation", v.code()));
    return p;
  }

  private static Map<String, Object> usage(ResourceUsage u) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("llm_calls", u.llmCalls());
    m.put("tool_calls", u.toolCalls());
    m.put("agent_hops", u.agentHops());
    m.put("iterations", u.iterations());
    m.put("tokens_in", u.tokensIn());
    m.put("tokens_out", u.tokensOut());
    m.put("elapsed_seconds", u.elapsedSeconds());
    return m;
  }

  /**
   * Adjusts a running process's quota: the body is a JSON object of snake_case quota fields, such as
   * {@code {"max_llm_calls": 20}}. 404 for an unknown pid, 400 for an unknown field, a bad value, a body
   * over {@value #MAX_BODY_BYTES} bytes or nested deeper than {@value #MAX_NESTING}. An answer quotes
   * the request's text only briefly (at most {@value #MAX_QUOTED} characters of a name or value).
   */
  @PATCH
  @Path("processes/{pid}/quota")
  @Consumes(MediaType.APPLICATION_JSON)
  public Response adjust(@PathParam("pid") String pid, @Context HttpHeaders headers, InputStream in) throws IOException {
    // A declared length over the bound is refused before a byte is read: a client that sent
    // "Expect: 100-continue" (curl does for large bodies) then never sends the body at all.
    byte[] bytes = headers.getLength() > MAX_BODY_BYTES ? null : in.readNBytes(MAX_BODY_BYTES + 1);
    if (bytes == null || bytes.length > MAX_BODY_BYTES) {
      return badRequest("the body must be at most " + MAX_BODY_BYTES + " bytes");
    }
    JsonNode body;
    try {
      body = BODY_READER.readTree(bytes);
    } catch (IOException notJsonTooDeepOrTooLong) {
      return badRequest("the body must be a JSON object of quota fields, such as {\"max_llm_calls\": 20}");
    }
    if (body == null || !body.isObject() || body.isEmpty()) {
      return badRequest("the body must be a JSON object of quota fields, such as {\"max_llm_calls\": 20}; valid names are "
          + ResourceQuota.adjustableFields());
    }
    Map<String, Integer> adjustments = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : body.properties()) {
      if (!ResourceQuota.adjustableFields().contains(e.getKey()) && e.getKey().length() > MAX_QUOTED) {
        return badRequest("unknown quota field " + brief(e.getKey()) + "; valid names are " + ResourceQuota.adjustableFields());
      }
      if (!e.getValue().isInt()) {
        return badRequest("quota field " + brief(e.getKey()) + " must be a whole number but was " + brief(e.getValue().toString()));
      }
      adjustments.put(e.getKey(), e.getValue().intValue());
    }
    try {
      if (!tracker.adjustQuota(pid, adjustments)) {
        return notFound("no tracked process " + brief(pid));
      }
    } catch (IllegalArgumentException e) {
      return badRequest(e.getMessage());
    }
    return process(pid);
  }

  /** Request text as an answer may quote it: cut to {@value #MAX_QUOTED} characters. */
  static String brief(String text) {
    return text.length() <= MAX_QUOTED ? text : text.substring(0, MAX_QUOTED) + "...";
  }

  /** Window usage of every endpoint of one user key, such as {@code ip:127.0.0.1} or {@code user:alice}. */
  @GET
  @Path("users/{user}/usage")
  public Map<String, Object> userUsage(@PathParam("user") String user) {
    Map<String, Object> endpoints = new LinkedHashMap<>();
    for (RateLimitKey key : limiter.keys(Integer.MAX_VALUE)) {
      if (key.userId().equals(user)) {
        endpoints.put(key.endpoint(), windows(limiter.getUsage(user, key.endpoint())));
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("user", user);
    out.put("endpoints", endpoints);
    return out;
  }

  /** Every (user, endpoint) pair with state, up to {@value #MAX_LISTED_KEYS}, busiest minute first. */
  @GET
  @Path("users")
  public List<Map<String, Object>> users() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (RateLimitKey key : limiter.keys(MAX_LISTED_KEYS)) {
      Map<LimitType, WindowUsage> usage = limiter.getUsage(key.userId(), key.endpoint());
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("user", key.userId());
      row.put("endpoint", key.endpoint());
      row.put("windows", windows(usage));
      row.put("minute_current", usage.get(LimitType.MINUTE).current());
      out.add(row);
    }
    out.sort(Comparator.comparing((Map<String, Object> r) -> (Long) r.get("minute_current")).reversed()
        .thenComparing(r -> String.valueOf(r.get("user"))).thenComparing(r -> String.valueOf(r.get("endpoint"))));
    return out;
  }

  /** Clears every window of one user key. */
  @POST
  @Path("users/{user}/reset")
  public Map<String, Object> reset(@PathParam("user") String user) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("user", user);
    out.put("windows_cleared", limiter.resetUser(user));
    return out;
  }

  private static Map<String, Object> windows(Map<LimitType, WindowUsage> usage) {
    Map<String, Object> out = new LinkedHashMap<>();
    usage.forEach((type, w) -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("current", w.current());
      m.put("limit", w.limit());
      m.put("remaining", w.remaining());
      m.put("reset_in_seconds", w.resetInSeconds());
      out.put(type.wireName(), m);
    });
    return out;
  }

  private static Response notFound(String detail) {
    return Response.status(Response.Status.NOT_FOUND).entity(Map.of("error", "not_found", "detail", detail)).build();
  }

  private static Response badRequest(String detail) {
    return Response.status(Response.Status.BAD_REQUEST).entity(Map.of("error", "bad_request", "detail", detail)).build();
  }
}
