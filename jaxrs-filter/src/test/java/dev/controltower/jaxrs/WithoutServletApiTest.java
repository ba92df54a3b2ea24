package dev.controltower.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import jakarta.ws.rs.container.ResourceContext;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/**
 * The interceptor on a class path without the servlet API (a JAX-RS runtime on Netty, the JDK server,
 * ...): its classes load, reflect (as runtimes do to find injection points) and run.
 */
class WithoutServletApiTest {

  /** Defines this module's classes itself, so that their references resolve here, and hides the servlet API. */
  static final class HidingLoader extends ClassLoader {
    HidingLoader(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        if (name.startsWith("jakarta.servlet.")) {
          throw new ClassNotFoundException(name + " is hidden");
        }
        if (!name.startsWith("dev.controltower.jaxrs.")) {
          return super.loadClass(name, resolve);
        }
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
            if (in == null) {
              throw new ClassNotFoundException(name);
            }
            byte[] bytes = in.readAllBytes();
            c = defineClass(name, bytes, 0, bytes.length);
          } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
          }
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }
  }

  @Test
  void interceptor_withoutServletApi_loadsReflectsAndRuns() throws Exception {
    HidingLoader loader = new HidingLoader(getClass().getClassLoader());
    Class<?> type = loader.loadClass(QuotaInterceptor.class.getName());

    assertThat(type).isNotSameAs(QuotaInterceptor.class);
    assertThat(type.getDeclaredFields()).isNotEmpty();
    assertThat(type.getDeclaredMethods()).isNotEmpty();
    Object interceptor = type.getConstructor(RateLimiter.class, ResourceTracker.class)
        .newInstance(RateLimiter.create(), ResourceTracker.create());
    Field servletApi = type.getDeclaredField("SERVLET_API");
    servletApi.setAccessible(true); // another class loader: another runtime package
    Method bridge = type.getDeclaredMethod("servletBridge", ResourceContext.class);
    bridge.setAccessible(true);

    assertThat(interceptor).isNotNull();
    assertThat(servletApi.getBoolean(null)).isFalse();
    assertThat(bridge.invoke(null, (Object) null)).isNull();
    assertThat(loader.loadClass(QuotaFeature.class.getName()).getConstructor().newInstance()).isNotNull();
  }

  @Test
  void interceptor_withServletApi_seesIt() {
    assertThat(QuotaInterceptor.SERVLET_API).isTrue();
  }
}
