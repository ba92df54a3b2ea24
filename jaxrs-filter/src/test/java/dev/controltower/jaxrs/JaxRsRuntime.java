package dev.controltower.jaxrs;

import jakarta.ws.rs.core.Application;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;

/** A Jakarta REST runtime that can serve an {@link Application} instance inside a servlet context. */
interface JaxRsRuntime {

  /**
   * Serves {@code app} under {@code prefix} (like {@code "/api"}) of {@code context}.
   */
  void mount(ServletContextHandler context, String prefix, Application app);
}
