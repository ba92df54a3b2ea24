package dev.controltower.jaxrs;

import jakarta.ws.rs.Path;
import java.lang.reflect.Method;

/**
 * Endpoint names from matched route templates: {@code GET /users/{id}}.
 *
 * <p>The template is the resource class's {@code @Path} joined with the resource method's, both read
 * from the classes JAX-RS matched (portable across runtimes), then normalized: one leading slash, no
 * trailing or doubled slash, and each parameter's regular expression dropped, so that
 * {@code {id: \d+}} and {@code {id}} name one endpoint. A request path never becomes an endpoint name:
 * the number of names is bounded by the application's code, not by what clients send.
 */
final class RouteTemplate {

  private RouteTemplate() {}

  /**
   * The template of a resource method matched directly from a root resource class, or null when the
   * class carries no {@code @Path} (a sub-resource reached through a locator, whose prefix only the
   * runtime knows).
   */
  static String ofRootResource(Class<?> resourceClass, Method resourceMethod) {
    Path classPath = classPath(resourceClass);
    if (classPath == null) {
      return null;
    }
    Path methodPath = methodPath(resourceMethod);
    return normalize(classPath.value() + "/" + (methodPath == null ? "" : methodPath.value()));
  }

  /**
   * The {@code @Path} of a class, looked up through superclasses and interfaces, because runtimes and
   * CDI containers may hand out generated subclasses (proxies) of the annotated class.
   */
  static Path classPath(Class<?> type) {
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      Path path = c.getAnnotation(Path.class);
      if (path != null) {
        return path;
      }
      for (Class<?> i : c.getInterfaces()) {
        Path onInterface = i.getAnnotation(Path.class);
        if (onInterface != null) {
          return onInterface;
        }
      }
    }
    return null;
  }

  /**
   * The {@code @Path} of a method, or of the method it implements or overrides (JAX-RS annotation
   * inheritance), or null for a method bound to its class's path.
   */
  static Path methodPath(Method method) {
    return MethodPolicy.onMethod(method, Path.class);
  }

  /**
   * A template with one leading slash, no trailing slash, no empty segment, and every
   * {@code {name: regex}} reduced to {@code {name}}; {@code "/"} for the root.
   */
  static String normalize(String template) {
    StringBuilder out = new StringBuilder(template.length() + 1);
    int depth = 0;
    boolean skippingRegex = false;
    for (int i = 0; i < template.length(); i++) {
      char c = template.charAt(i);
      if (depth > 0) {
        if (c == '{') {
          depth++;
        } else if (c == '}') {
          depth--;
          if (depth == 0) {
            skippingRegex = false;
            trimTrailingSpaces(out);
            out.append('}');
          }
          continue;
        } else if (c == ':' && depth == 1) {
          skippingRegex = true;
          trimTrailingSpaces(out);
          continue;
        }
        if (!skippingRegex && !Character.isWhitespace(c)) {
          out.append(c);
        }
        continue;
      }
      if (c == '{') {
        depth = 1;
        slashIfNeeded(out);
        out.append('{');
      } else if (c == '/') {
        if (out.length() > 0 && out.charAt(out.length() - 1) != '/') {
          out.append('/');
        }
      } else {
        slashIfNeeded(out);
        out.append(c);
      }
    }
    if (out.length() > 1 && out.charAt(out.length() - 1) == '/') {
      out.setLength(out.length() - 1);
    }
    return out.length() == 0 ? "/" : out.toString();
  }

  private static void slashIfNeeded(StringBuilder out) {
    if (out.length() == 0) {
      out.append('/');
    }
  }

  private static void trimTrailingSpaces(StringBuilder out) {
    while (out.length() > 0 && out.charAt(out.length() - 1) == ' ') {
      out.setLength(out.length() - 1);
    }
  }

  /** The endpoint name: the HTTP method, one space, the normalized template. */
  static String endpoint(String httpMethod, String template) {
    return httpMethod + " " + template;
  }
}
