/**
 * Control Tower's core: the limiter and tracker ({@code dev.controltower.resources}), the framework-neutral
 * HTTP rules the adapters share ({@code dev.controltower.http}) and the store extension point
 * ({@code dev.controltower.spi}). The machinery ({@code dev.controltower.resources.internal}) is not
 * exported.
 */
module dev.controltower.core {
  requires transitive org.slf4j;
  requires com.github.benmanes.caffeine;

  exports dev.controltower.resources;
  exports dev.controltower.http;
  exports dev.controltower.spi;

  uses dev.controltower.spi.WindowStoreProvider;

}
