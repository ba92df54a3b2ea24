package dev.controltower.jaxrs;

import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import java.util.Set;

/**
 * Registers {@link ProcessReleaseListener} in every webapp that has {@code controltower-jaxrs} on its
 * class path, through the {@code ServletContainerInitializer} service, so that no pid outlives its
 * servlet request. Nothing else is registered: the JAX-RS side is configured in the JAX-RS
 * application.
 */
public final class QuotaServletInitializer implements ServletContainerInitializer {

  /** An initializer; containers create it through the service loader. */
  public QuotaServletInitializer() {}

  @Override
  public void onStartup(Set<Class<?>> classes, ServletContext context) {
    context.addListener(ProcessReleaseListener.class);
  }
}
