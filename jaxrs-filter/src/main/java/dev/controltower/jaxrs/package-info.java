/**
 * The Jakarta REST (JAX-RS) adapter: {@link dev.controltower.jaxrs.QuotaInterceptor}, one provider
 * that rate-limits each user per matched route template ({@code GET /users/{id}}) and gives each
 * admitted request a tracked process with a quota, portable across runtimes (tested on Jersey and
 * RESTEasy, in a servlet container and, for Jersey, outside one).
 *
 * <p>Register it with {@code register(QuotaInterceptor.class)}, an instance built around a
 * {@link dev.controltower.resources.RateLimiter} and a {@link dev.controltower.resources.ResourceTracker},
 * {@link dev.controltower.jaxrs.QuotaFeature}, or {@code @Provider} scanning. Annotate resources with
 * {@link dev.controltower.jaxrs.RateLimited} (per-endpoint limits) and {@link dev.controltower.jaxrs.Quota}
 * (per-request quotas). Identity rules, header fields, problem bodies and the process context come from
 * the framework-neutral {@code dev.controltower.http} layer that the servlet filter uses too, so both
 * adapters answer identically on the wire. In a servlet container,
 * {@link dev.controltower.jaxrs.ProcessReleaseListener} (registered by
 * {@link dev.controltower.jaxrs.QuotaServletInitializer}) guarantees that no pid outlives its request.
 */
package dev.controltower.jaxrs;
