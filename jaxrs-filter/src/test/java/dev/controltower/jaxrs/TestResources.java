package dev.controltower.jaxrs;

import dev.controltower.http.ProcessContext;
import dev.controltower.http.QuotaExceededException;
import jakarta.annotation.Priority;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.ext.ExceptionMapper;
import java.io.IOException;
import java.security.Principal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The resources and providers the contract tests deploy. */
final class TestResources {
  private TestResources() {}

  static ProcessContext process(HttpServletRequest request) {
    return (ProcessContext) request.getAttribute(ProcessContext.ATTRIBUTE);
  }

  /** Released by the tests to let held requests finish. */
  static volatile java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(0);

  /** LLM calls against a token budget, and requests held running, under annotation limits. */
  @Path("/llm")
  @RateLimited(requestsPerMinute = 100, tokensPerMinute = 1000, maxConcurrentRequests = 1)
  public static class Llm {
    @GET
    @Path("call")
    public String call(@QueryParam("reserve") long reserve, @QueryParam("in") long in, @QueryParam("out") long out,
        @Context HttpServletRequest request) {
      ProcessContext p = process(request);
      p.reserveTokens(reserve); // refused: TokenLimitExceededException, the 429
      p.recordLlmCall(in, out);
      return "called";
    }

    @GET
    @Path("hold")
    public String hold() throws InterruptedException {
      return hold.await(10, TimeUnit.SECONDS) ? "released" : "timed out";
    }
  }

  /** Plain resource: keyed by template, limited by the limiter's default config. */
  @Path("/users")
  public static class Users {
    @GET
    @Path("{id: \\d+}")
    public String get(@PathParam("id") String id, @QueryParam("llm") int llm, @Context HttpServletRequest request) {
      for (int i = 0; i < llm; i++) {
        process(request).recordLlmCall(1, 1);
      }
      return "user " + id + " pid " + process(request).pid();
    }

    @Path("{id}/teams/{team}")
    public Team team() {
      return new Team();
    }
  }

  /** A locator that reuses the root resource {@link Users} as a sub-resource. */
  @Path("/orgs")
  public static class Orgs {
    @Path("{org}/users")
    public Users users() {
      return new Users();
    }
  }

  /** A sub-resource reached through a locator. */
  public static class Team {
    @GET
    public String get() {
      return "team";
    }
  }

  /** Class and method annotations. */
  @Path("/annotated")
  @RateLimited(requestsPerMinute = 2)
  @Quota(maxLlmCalls = 1, maxToolCalls = 1)
  public static class Annotated {
    @GET
    public String classLimits() {
      return "class";
    }

    @GET
    @Path("method")
    @RateLimited(requestsPerMinute = 1)
    public String methodLimits() {
      return "method";
    }

    @POST
    @Path("llm")
    public String llm(@QueryParam("calls") int calls, @Context HttpServletRequest request) {
      ProcessContext p = process(request);
      for (int i = 0; i < calls; i++) {
        p.recordLlmCall(10, 10);
      }
      return "llm " + calls;
    }

    @POST
    @Path("tools")
    @Quota(maxToolCalls = 3)
    public String tools(@QueryParam("calls") int calls, @Context HttpServletRequest request) {
      ProcessContext p = process(request);
      for (int i = 0; i < calls; i++) {
        p.recordToolCall();
      }
      return "tools " + calls + " of " + p.remaining().orElseThrow().toolCalls() + " left; quota "
          + p.quota().maxLlmCalls() + " llm, " + p.quota().maxToolCalls() + " tools";
    }
  }

  /** Failure paths. */
  @Path("/failing")
  public static class Failing {
    @GET
    @Path("unmapped")
    public String unmapped() {
      throw new IllegalStateException("boom");
    }

    @GET
    @Path("mapper-throws")
    public String mapperThrows() {
      throw new MapperFailsException();
    }

    @GET
    @Path("quota")
    @Quota(maxLlmCalls = 1)
    public String quota(@Context HttpServletRequest request) {
      process(request).recordLlmCall(1, 1);
      process(request).recordLlmCall(1, 1);
      return "not reached";
    }

    @GET
    @Path("async")
    public void async(@Suspended AsyncResponse response, @Context HttpServletRequest request) {
      ProcessContext p = process(request);
      CompletableFuture.runAsync(() -> {
        p.recordToolCall();
        response.resume("async " + p.usage().orElseThrow().toolCalls());
      });
    }

    @GET
    @Path("async-late")
    public void asyncLate(@Suspended AsyncResponse response, @Context HttpServletRequest request) {
      ProcessContext p = process(request);
      // Runs well after the servlet dispatch returned: the pid must still be live then.
      CompletableFuture.runAsync(() -> {
        p.recordToolCall();
        response.resume("late " + p.usage().orElseThrow().toolCalls());
      }, CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
    }

    @GET
    @Path("async-error")
    public void asyncError(@Suspended AsyncResponse response) {
      CompletableFuture.runAsync(() -> response.resume(new IllegalStateException("async boom")));
    }

    @GET
    @Path("async-quota")
    @Quota(maxLlmCalls = 1)
    public void asyncQuota(@Suspended AsyncResponse response, @Context HttpServletRequest request) {
      ProcessContext p = process(request);
      CompletableFuture.runAsync(() -> {
        try {
          p.recordLlmCall(1, 1);
          p.recordLlmCall(1, 1);
          response.resume("not reached");
        } catch (QuotaExceededException e) {
          response.resume(e);
        }
      });
    }
  }

  /** A plain servlet serving the same API as {@link Users}, behind the servlet filter. */
  public static class LegacyUsersServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      String llm = request.getParameter("llm");
      for (int i = 0; llm != null && i < Integer.parseInt(llm); i++) {
        process(request).recordLlmCall(1, 1);
      }
      response.setContentType("text/plain");
      response.getWriter().write("legacy " + request.getPathInfo() + " pid " + process(request).pid());
    }
  }

  /** An invalid annotation element. */
  @Path("/bad")
  public static class BadAnnotation {
    @GET
    @RateLimited(requestsPerMinute = -2)
    public String get() {
      return "not reached";
    }
  }

  /** Thrown to reach {@link ThrowingMapper}. */
  public static class MapperFailsException extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  /** An application mapper that itself fails: the runtime then skips the response filters. */
  public static class ThrowingMapper implements ExceptionMapper<MapperFailsException> {
    @Override
    public Response toResponse(MapperFailsException exception) {
      throw new IllegalStateException("mapper failed");
    }
  }

  /** An application response filter that fails on demand, before the interceptor's response filter runs. */
  @Priority(Priorities.USER)
  public static class FailingResponseFilter implements ContainerResponseFilter {
    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
      if (request.getHeaderString("X-Fail-Response") != null) {
        throw new IllegalStateException("response filter failed");
      }
    }
  }

  /** An application's own answer to quota violations, preferred by its priority over the interceptor's. */
  @Priority(QuotaInterceptor.PRIORITY - 1)
  public static class CustomQuotaMapper implements ExceptionMapper<QuotaExceededException> {
    @Override
    public Response toResponse(QuotaExceededException exception) {
      return Response.status(402).entity("pay for " + exception.violation().code()).build();
    }
  }

  /**
   * Authenticates {@code X-Test-User} as the principal, at the authentication priority; refuses the user
   * {@code intruder} with 401.
   */
  @Priority(Priorities.AUTHENTICATION)
  public static class HeaderAuthentication implements ContainerRequestFilter {
    @Override
    public void filter(ContainerRequestContext request) {
      String user = request.getHeaderString("X-Test-User");
      if (user == null) {
        return;
      }
      if (user.equals("intruder")) {
        request.abortWith(Response.status(401).entity("who are you").build());
        return;
      }
      SecurityContext original = request.getSecurityContext();
      Principal principal = () -> user;
      request.setSecurityContext(new SecurityContext() {
        @Override
        public Principal getUserPrincipal() {
          return principal;
        }

        @Override
        public boolean isUserInRole(String role) {
          return false;
        }

        @Override
        public boolean isSecure() {
          return original != null && original.isSecure();
        }

        @Override
        public String getAuthenticationScheme() {
          return "test";
        }
      });
    }
  }
}
