package dev.controltower.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.ServletContainerInitializer;
import java.util.ServiceLoader;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;

class QuotaServletInitializerTest {

  @Test
  void serviceLoader_listsTheInitializer() {
    assertThat(ServiceLoader.load(ServletContainerInitializer.class).stream().map(ServiceLoader.Provider::type))
        .contains(QuotaServletInitializer.class);
  }

  @Test
  void onStartup_registersTheReleaseListener() throws Exception {
    Server server = new Server(0);
    ServletContextHandler context = new ServletContextHandler("/");
    context.addServletContainerInitializer(new QuotaServletInitializer());
    server.setHandler(context);
    server.start();
    try {
      assertThat(context.getEventListeners()).anyMatch(ProcessReleaseListener.class::isInstance);
    } finally {
      server.stop();
    }
  }
}
