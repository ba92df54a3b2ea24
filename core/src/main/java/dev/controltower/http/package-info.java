/**
 * The framework-neutral half of the HTTP adapters: settings parsed from kebab-case parameters
 * ({@link dev.controltower.http.HttpSettings}), who a request is
 * ({@link dev.controltower.http.ClientIdentityResolver}), which endpoint it counts against
 * ({@link dev.controltower.http.EndpointResolver}), the rate-limit header fields
 * ({@link dev.controltower.http.RateLimitHeaders}) and problem bodies
 * ({@link dev.controltower.http.ProblemResponse}), the per-request process
 * ({@link dev.controltower.http.ProcessContext}), and the gate that ties them together
 * ({@link dev.controltower.http.RequestGate}). No servlet or JAX-RS type appears here, so the servlet
 * filter and the JAX-RS interceptor behave identically.
 */
package dev.controltower.http;
