package dev.controltower.jaxrs;

import dev.controltower.http.SharedLimits;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.container.ResourceContext;
import jakarta.ws.rs.core.Context;

/**
 * The servlet side of a JAX-RS request, when the runtime runs inside a servlet container: the client
 * address (JAX-RS has no portable way to read it) and the servlet context (where a servlet filter of
 * the same webapp shares its limiter and tracker). Of the interceptor's classes only this one names
 * servlet types, and it is used only when {@link QuotaInterceptor#SERVLET_API} says the API is present.
 */
final class ServletBridge {

  @Context
  private HttpServletRequest request;

  private ServletBridge() {}

  /**
   * The servlet objects of the current request, injected by the runtime through {@code resources}, or
   * null when the runtime does not run in a servlet container.
   */
  static ServletBridge current(ResourceContext resources) {
    if (resources == null) {
      return null;
    }
    try {
      ServletBridge bridge = resources.initResource(new ServletBridge());
      return bridge.request == null ? null : bridge;
    } catch (RuntimeException notInServletContainer) {
      return null;
    }
  }

  /** The direct peer's address, as the container reports it, or null. */
  String remoteAddr() {
    try {
      return request.getRemoteAddr();
    } catch (RuntimeException noRequestInScope) {
      return null;
    }
  }

  /**
   * The servlet context, taken from the request: runtimes inject the request more reliably than the
   * context (RESTEasy started from a prebuilt deployment injects no context).
   */
  private ServletContext servletContext() {
    try {
      return request.getServletContext();
    } catch (RuntimeException noRequestInScope) {
      return null;
    }
  }

  /** The servlet context's attributes, for {@link SharedLimits}, or null without a context. */
  SharedLimits.Context attributes() {
    ServletContext servletContext = servletContext();
    return servletContext == null ? null : attributesOf(servletContext);
  }

  /** A servlet context's attributes, for {@link SharedLimits}. */
  static SharedLimits.Context attributesOf(ServletContext servletContext) {
    return new SharedLimits.Context() {
      @Override
      public Object getAttribute(String name) {
        return servletContext.getAttribute(name);
      }

      @Override
      public void setAttribute(String name, Object value) {
        servletContext.setAttribute(name, value);
      }
    };
  }
}
