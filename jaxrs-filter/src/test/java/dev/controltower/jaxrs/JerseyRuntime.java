package dev.controltower.jaxrs;

import jakarta.ws.rs.core.Application;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.servlet.ServletContainer;

/** Jersey's servlet container. */
final class JerseyRuntime implements JaxRsRuntime {
  @Override
  public void mount(ServletContextHandler context, String prefix, Application app) {
    ServletHolder holder = new ServletHolder("jersey", new ServletContainer(ResourceConfig.forApplication(app)));
    holder.setAsyncSupported(true);
    context.addServlet(holder, prefix + "/*");
  }
}
