package dev.controltower.jaxrs;

import jakarta.ws.rs.core.Application;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.jboss.resteasy.core.ResteasyDeploymentImpl;
import org.jboss.resteasy.plugins.server.servlet.HttpServletDispatcher;
import org.jboss.resteasy.spi.ResteasyDeployment;

/** RESTEasy's servlet dispatcher, with a deployment started from the application instance. */
final class ResteasyRuntime implements JaxRsRuntime {
  @Override
  public void mount(ServletContextHandler context, String prefix, Application app) {
    ResteasyDeployment deployment = new ResteasyDeploymentImpl();
    deployment.setApplication(app);
    deployment.start();
    context.setAttribute(ResteasyDeployment.class.getName(), deployment);
    ServletHolder holder = new ServletHolder("resteasy", new HttpServletDispatcher());
    holder.setInitParameter("resteasy.servlet.mapping.prefix", prefix);
    holder.setAsyncSupported(true);
    context.addServlet(holder, prefix + "/*");
  }
}
