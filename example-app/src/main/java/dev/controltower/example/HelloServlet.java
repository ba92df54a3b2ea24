package dev.controltower.example;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;

/** {@code GET /api/hello}: a plain endpoint with a small per-minute limit, to see 429 + Retry-After. */
public final class HelloServlet extends MethodAwareServlet {
  private static final long serialVersionUID = 1L;

  @Override
  Set<String> methods() {
    return Set.of("GET");
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("application/json");
    response.setCharacterEncoding("UTF-8");
    response.getWriter().write("{\"message\":\"hello from a rate-limited servlet\"}\n");
  }
}
