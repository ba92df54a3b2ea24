package dev.controltower.jaxrs;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import org.junit.jupiter.api.Test;

class RouteTemplateTest {

  @Path("users/")
  static class Users {
    @GET
    public String list() {
      return "";
    }

    @GET
    @Path("/{id: \\d+}/")
    public String one() {
      return "";
    }
  }

  interface Documented {
    @GET
    @Path("{id}/docs")
    String docs();
  }

  @Path("/api")
  static class Implementing implements Documented {
    @Override
    public String docs() {
      return "";
    }
  }

  static class GeneratedSubclass extends Users {}

  static class SubResource {
    @GET
    public String get() {
      return "";
    }
  }

  @Test
  void normalize_regexAndSlashes_areDropped() {
    assertThat(RouteTemplate.normalize("/users/{id: \\d+}/")).isEqualTo("/users/{id}");
    assertThat(RouteTemplate.normalize("users//{ id :[0-9]{3}}/x")).isEqualTo("/users/{id}/x");
    assertThat(RouteTemplate.normalize("a/{b}{c: .+}")).isEqualTo("/a/{b}{c}");
  }

  @Test
  void normalize_emptyOrSlash_isRoot() {
    assertThat(RouteTemplate.normalize("")).isEqualTo("/");
    assertThat(RouteTemplate.normalize("//")).isEqualTo("/");
  }

  @Test
  void ofRootResource_classAndMethodPaths_areJoined() throws Exception {
    assertThat(RouteTemplate.ofRootResource(Users.class, Users.class.getMethod("one"))).isEqualTo("/users/{id}");
    assertThat(RouteTemplate.ofRootResource(Users.class, Users.class.getMethod("list"))).isEqualTo("/users");
  }

  @Test
  void ofRootResource_pathOnInterfaceMethod_isInherited() throws Exception {
    assertThat(RouteTemplate.ofRootResource(Implementing.class, Implementing.class.getMethod("docs")))
        .isEqualTo("/api/{id}/docs");
  }

  @Test
  void ofRootResource_generatedSubclass_usesTheAnnotatedSuperclass() throws Exception {
    assertThat(RouteTemplate.ofRootResource(GeneratedSubclass.class, GeneratedSubclass.class.getMethod("one")))
        .isEqualTo("/users/{id}");
  }

  @Test
  void ofRootResource_classWithoutPath_isNull() throws Exception {
    assertThat(RouteTemplate.ofRootResource(SubResource.class, SubResource.class.getMethod("get"))).isNull();
  }
}
