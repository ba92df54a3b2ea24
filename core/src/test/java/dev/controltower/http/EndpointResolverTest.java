package dev.controltower.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EndpointResolverTest {

  private static final EndpointResolver RESOLVER = new EndpointResolver(HttpSettings.fromMap(Map.of(
      "endpoint-patterns", "/api/x, /api/users/*, GET /api/items/{id}, /api/*/stats",
      "exclude-paths", "/health, /static/*")));

  @ParameterizedTest
  @ValueSource(strings = {"/api/x", "/api/x/", "//api/x", "/api//x", "/api/./x", "/api/y/../x",
      "/api/x;jsessionid=ABC123", "/api;v=1/x", "/%61pi/%78", "/api/%2E/x", "/api/y/%2e%2e/x", "/../api/x"})
  void endpoint_variantOfApiX_isApiX(String path) {
    assertThat(RESOLVER.endpoint("GET", path, true)).isEqualTo("/api/x");
  }

  @Test
  void route_decodedSemicolonAndDots_areTakenLiterallyAndNeverExcludeACountedPath() {
    // as a container hands over /api/q/..%3B/..%3B/static/y: the ";" was a character, not a parameter
    assertThat(RESOLVER.route("GET", "/api/q/..;/..;/static/y").endpoint()).isEqualTo("default");
    assertThat(RESOLVER.route("GET", "/static/..;/api/x").endpoint()).isEqualTo("/api/x");
    assertThat(RESOLVER.route("GET", "/api/users/..;/x")).isEqualTo(PathDecision.AMBIGUOUS);
    assertThat(RESOLVER.route("GET", "/api/users/../x")).isEqualTo(PathDecision.AMBIGUOUS);
    assertThat(RESOLVER.route("GET", "/api/x;v=1")).isEqualTo(PathDecision.AMBIGUOUS); // default or /api/x
    assertThat(RESOLVER.route("GET", "/api/%3B/x").endpoint()).isEqualTo("default"); // "%" came from %25
    assertThat(RESOLVER.route("GET", "/static/y")).isEqualTo(PathDecision.EXCLUDED);
    assertThat(RESOLVER.route("GET", "/static/./y")).isEqualTo(PathDecision.EXCLUDED);
    assertThat(RESOLVER.route("GET", "/api//x/").endpoint()).isEqualTo("/api/x");
  }

  @Test
  void isExcludedDecoded_excludedUnderOneReadingOnly_isNotExcluded() {
    assertThat(RESOLVER.isExcludedDecoded("GET", "/static/y")).isTrue();
    assertThat(RESOLVER.isExcludedDecoded("GET", "/api/q/..;/..;/static/y")).isFalse();
    assertThat(RESOLVER.isExcludedDecoded("GET", "/api/q/../../static/y")).isFalse();
    assertThat(RESOLVER.isExcludedDecoded("GET", "/static/..;/y")).isFalse();
    assertThat(RESOLVER.isExcludedDecoded("GET", "/static/a;b")).isTrue();
  }

  @Test
  void canonicalPath_variants_areCanonical() {
    assertThat(EndpointResolver.canonicalPath("//api/./y/../x/;a=b", true, false)).isEqualTo("/api/x");
    assertThat(EndpointResolver.canonicalPath("", true, false)).isEqualTo("/");
    assertThat(EndpointResolver.canonicalPath(null, true, false)).isEqualTo("/");
    assertThat(EndpointResolver.canonicalPath("/API/X", false, true)).isEqualTo("/api/x");
    assertThat(EndpointResolver.canonicalPath("/caf%C3%A9", true, false)).isEqualTo("/café");
    assertThat(EndpointResolver.canonicalPath("/bad%zz%4", true, false)).isEqualTo("/bad%zz%4");
  }

  @Test
  void endpoint_prefixPattern_matchesItselfAndBelow() {
    assertThat(RESOLVER.endpoint("POST", "/api/users", false)).isEqualTo("/api/users/*");
    assertThat(RESOLVER.endpoint("POST", "/api/users/42/posts", false)).isEqualTo("/api/users/*");
  }

  @Test
  void endpoint_methodPattern_matchesOnlyThatMethod() {
    assertThat(RESOLVER.endpoint("GET", "/api/items/42", false)).isEqualTo("GET /api/items/{id}");
    assertThat(RESOLVER.endpoint("DELETE", "/api/items/42", false)).isEqualTo("default");
    assertThat(RESOLVER.endpoint("GET", "/api/items/42/more", false)).isEqualTo("default");
  }

  @Test
  void endpoint_headRequest_matchesGetPattern() {
    assertThat(RESOLVER.endpoint("HEAD", "/api/items/42", false)).isEqualTo("GET /api/items/{id}");
    assertThat(RESOLVER.endpoint("PUT", "/api/items/42", false)).isNotEqualTo("GET /api/items/{id}");
  }

  @Test
  void endpoint_middleWildcard_matchesOneSegment() {
    assertThat(RESOLVER.endpoint("GET", "/api/orders/stats", false)).isEqualTo("/api/*/stats");
  }

  @Test
  void endpoint_unmatchedPaths_allShareDefault() {
    assertThat(RESOLVER.endpoint("GET", "/random/1", false)).isEqualTo("default");
    assertThat(RESOLVER.endpoint("GET", "/random/2", false)).isEqualTo("default");
    assertThat(RESOLVER.endpoint("GET", "/api/x/extra", false)).isEqualTo("default");
  }

  @Test
  void endpoint_caseSensitiveByDefault_upperCaseIsDefault() {
    assertThat(RESOLVER.endpoint("GET", "/API/x", false)).isEqualTo("default");
  }

  @Test
  void endpoint_caseInsensitiveConfigured_foldsCase() {
    EndpointResolver r = new EndpointResolver(HttpSettings.fromMap(Map.of(
        "endpoint-patterns", "/Api/X", "case-insensitive-paths", "true")));

    assertThat(r.endpoint("GET", "/API/x", false)).isEqualTo("/api/x");
  }

  @Test
  void isExcluded_excludedPathAndVariants_areExcluded() {
    assertThat(RESOLVER.isExcluded("GET", "/health", false)).isTrue();
    assertThat(RESOLVER.isExcluded("GET", "/health/", false)).isTrue();
    assertThat(RESOLVER.isExcluded("GET", "/static/app.js", false)).isTrue();
  }

  @Test
  void isExcluded_dotDotOutOfExcludedPath_isNotExcluded() {
    assertThat(RESOLVER.isExcluded("GET", "/health/../api/x", false)).isFalse();
    assertThat(RESOLVER.isExcluded("GET", "/static/%2e%2e/api/x", true)).isFalse();
    assertThat(RESOLVER.isExcluded("GET", "/healthz", false)).isFalse();
  }
}
