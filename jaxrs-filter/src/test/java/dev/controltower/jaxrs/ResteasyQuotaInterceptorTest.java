package dev.controltower.jaxrs;

/** The contract on RESTEasy. */
class ResteasyQuotaInterceptorTest extends QuotaInterceptorContract {
  @Override
  JaxRsRuntime runtime() {
    return new ResteasyRuntime();
  }
}
