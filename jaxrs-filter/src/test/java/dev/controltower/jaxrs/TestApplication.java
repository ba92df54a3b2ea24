package dev.controltower.jaxrs;

import jakarta.ws.rs.core.Application;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** The test resources and providers, plus whatever registers the interceptor. */
final class TestApplication extends Application {
  private final Set<Class<?>> extraClasses;
  private final Set<Object> singletons;
  private final Map<String, Object> properties;

  TestApplication(Set<Class<?>> extraClasses, Set<Object> singletons, Map<String, Object> properties) {
    this.extraClasses = extraClasses;
    this.singletons = singletons;
    this.properties = properties;
  }

  static TestApplication with(Object... singletons) {
    return new TestApplication(Set.of(), Set.of(singletons), Map.of());
  }

  @Override
  public Set<Class<?>> getClasses() {
    Set<Class<?>> classes = new HashSet<>(Set.of(TestResources.Users.class, TestResources.Orgs.class, TestResources.Annotated.class, TestResources.Llm.class,
        TestResources.Failing.class, TestResources.ThrowingMapper.class, TestResources.HeaderAuthentication.class,
        TestResources.FailingResponseFilter.class));
    classes.addAll(extraClasses);
    return classes;
  }

  // Deprecated in Jakarta REST 4.0 in favour of CDI, yet honoured by both runtimes, and the one
  // portable way to hand built instances (fake clocks) to an Application.
  @Override
  @SuppressWarnings("deprecation")
  public Set<Object> getSingletons() {
    return singletons;
  }

  @Override
  public Map<String, Object> getProperties() {
    return properties;
  }
}
