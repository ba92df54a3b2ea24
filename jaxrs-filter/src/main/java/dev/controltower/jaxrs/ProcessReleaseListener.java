package dev.controltower.jaxrs;

import dev.controltower.http.SharedLimits;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestEvent;
import jakarta.servlet.ServletRequestListener;

/**
 * The last line of defence against leaked pids when a JAX-RS application runs in a servlet container:
 * when the servlet request ends, it releases the pid of a request that {@link QuotaInterceptor}
 * admitted and whose response filter never ran (an exception mapper that threw, a response filter of
 * higher priority that threw, an exception that escaped to the container).
 *
 * <p>It is registered automatically by {@link QuotaServletInitializer} in containers that run
 * {@code ServletContainerInitializer}s (a webapp in Jetty, Tomcat, ...); an embedded context that does
 * not can add it with {@code context.addEventListener(new ProcessReleaseListener())}. Release is
 * idempotent, so a pid that the response filter already released is left alone.
 *
 * <p>When the webapp ends, it closes the store of a limiter that an adapter built from its settings
 * ({@link SharedLimits#closeBuilt}).
 *
 * <p>Stateless and thread-safe.
 */
public final class ProcessReleaseListener implements ServletRequestListener, ServletContextListener {

  /**
   * The request attribute holding the release hook ({@link Runnable}) of the request's pid. JAX-RS
   * request properties are servlet request attributes in a servlet container, which is how the
   * interceptor hands the hook over without naming a servlet type.
   */
  public static final String RELEASE_ATTRIBUTE = "dev.controltower.jaxrs.release";

  /** A listener; it holds no state. */
  public ProcessReleaseListener() {}

  /**
   * Closes the store of a limiter that an adapter built for this webapp from its settings
   * ({@code store=redis}: its connection and threads), when the webapp ends.
   */
  @Override
  public void contextDestroyed(ServletContextEvent event) {
    SharedLimits.closeBuilt(ServletBridge.attributesOf(event.getServletContext()));
  }

  @Override
  public void requestDestroyed(ServletRequestEvent event) {
    ServletRequest request = event.getServletRequest();
    Object hook = request.getAttribute(RELEASE_ATTRIBUTE);
    if (!(hook instanceof Runnable release)) {
      return;
    }
    if (request.isAsyncStarted()) {
      // Jetty ends the request's scope when the first dispatch returns, while the request goes on
      // asynchronously: release when it really ends.
      try {
        request.getAsyncContext().addListener(new ReleaseOnEnd(release));
        return;
      } catch (IllegalStateException completedMeanwhile) {
        // the async cycle ended between the two calls: nothing would fire, release now
      }
    }
    request.removeAttribute(RELEASE_ATTRIBUTE);
    release.run();
  }

  private record ReleaseOnEnd(Runnable release) implements AsyncListener {
    @Override
    public void onComplete(AsyncEvent event) {
      release.run();
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      // The container completes or errors the request next; release then.
    }

    @Override
    public void onError(AsyncEvent event) {
      release.run();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
      event.getAsyncContext().addListener(this);
    }
  }
}
