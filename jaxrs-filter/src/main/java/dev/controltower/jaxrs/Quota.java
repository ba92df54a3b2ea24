package dev.controltower.jaxrs;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Per-request resource quota for a resource method, or for every method of a resource class: how many
 * LLM calls, tool calls, agent hops and iterations one request may record, its token limits per LLM
 * call, and its timeout.
 *
 * <p>Each admitted request is allocated in the {@link dev.controltower.resources.ResourceTracker} with
 * this quota; the resource records usage through its process context, and a request that goes over
 * the quota ends with 429 and the violation code in a problem+json body.
 *
 * <p><b>Unset elements</b> ({@code -1}, the default) take the value of the class annotation if there is
 * one, else of the interceptor's default quota (the tracker's configuration, by default
 * {@link dev.controltower.resources.ResourceQuota#defaults()}).
 *
 * <p>The tracker holds the annotated quota for the request's pid, so recording, checking and
 * {@code ProcessContext.remaining()} follow it; {@code ProcessContext.quota()} still reports the
 * configured quota the pid was first allocated with (the shared gate allocates every pid with one
 * quota, and the interceptor adjusts it right after).
 *
 * <p><b>Method over class.</b> An element set on the method wins over the same element on the class;
 * the other elements are inherited from the class annotation:
 * <pre>{@code
 * @Path("/agents")
 * @Quota(maxLlmCalls = 5, timeoutSeconds = 60)
 * public class AgentResource {
 *   @POST @Path("{id}/run") @Quota(maxToolCalls = 3)   // 5 LLM calls, 3 tool calls, 60 s
 *   public Response run(@PathParam("id") String id) { ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface Quota {

  /** LLM calls per request; {@code -1} (default) leaves it unset. */
  int maxLlmCalls() default -1;

  /** Tool calls per request; {@code -1} (default) leaves it unset. */
  int maxToolCalls() default -1;

  /** Agent hops per request; {@code -1} (default) leaves it unset. */
  int maxAgentHops() default -1;

  /** Iterations per request; {@code -1} (default) leaves it unset. */
  int maxIterations() default -1;

  /** Input tokens per LLM call; {@code -1} (default) leaves it unset. */
  int maxInputTokens() default -1;

  /** Output tokens per LLM call; {@code -1} (default) leaves it unset. */
  int maxOutputTokens() default -1;

  /** Input plus output tokens per LLM call; {@code -1} (default) leaves it unset. */
  int maxContextTokens() default -1;

  /** Seconds the request may run, from its admission; {@code -1} (default) leaves it unset. */
  int timeoutSeconds() default -1;

  /** Seconds after which a warning is logged, once; {@code -1} (default) leaves it unset. */
  int softTimeoutSeconds() default -1;
}
