package dev.controltower.example;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

/**
 * {@code GET /admin/dashboard}: the live dashboard, one static HTML page that polls the admin API. The
 * page holds no data itself; its requests carry the admin token the operator gives it.
 */
public final class DashboardServlet extends MethodAwareServlet {
  private static final long serialVersionUID = 1L;

  @Override
  Set<String> methods() {
    return Set.of("GET");
  }
  private transient byte[] page;

  @Override
  public void init() {
    try (InputStream in = DashboardServlet.class.getResourceAsStream("/dashboard.html")) {
      if (in == null) {
        throw new IllegalStateException("dashboard.html is missing from the classpath");
      }
      page = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read dashboard.html", e);
    }
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("text/html");
    response.setCharacterEncoding("UTF-8");
    response.setHeader("Cache-Control", "no-store");
    response.setHeader("Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self';"
            + " frame-ancestors 'none'");
    response.setHeader("X-Frame-Options", "DENY"); // for browsers that predate frame-ancestors
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setContentLength(page.length);
    response.getOutputStream().write(page);
  }
}
