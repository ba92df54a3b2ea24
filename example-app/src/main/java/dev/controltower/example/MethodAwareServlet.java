package dev.controltower.example;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A servlet that answers a method it does not serve with 405 and the {@code Allow} header that RFC 9110
 * section 15.5.6 requires, which {@link HttpServlet}'s own 405 leaves out.
 */
abstract class MethodAwareServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The methods this servlet serves (HEAD and OPTIONS follow from GET and are always allowed). */
  abstract Set<String> methods();

  private String allow() {
    Set<String> all = new LinkedHashSet<>(methods());
    if (all.contains("GET")) {
      all.add("HEAD");
    }
    all.add("OPTIONS");
    return String.join(", ", all);
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
    String method = request.getMethod();
    if (method.equals("OPTIONS")) {
      response.setHeader("Allow", allow());
      response.setStatus(HttpServletResponse.SC_NO_CONTENT);
      return;
    }
    boolean served = methods().contains(method) || (method.equals("HEAD") && methods().contains("GET"));
    if (!served) {
      response.setHeader("Allow", allow());
      response.sendError(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
      return;
    }
    super.service(request, response);
  }
}
