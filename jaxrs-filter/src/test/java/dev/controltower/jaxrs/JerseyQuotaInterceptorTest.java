package dev.controltower.jaxrs;

/** The contract on Jersey. */
class JerseyQuotaInterceptorTest extends QuotaInterceptorContract {
  @Override
  JaxRsRuntime runtime() {
    return new JerseyRuntime();
  }
}
