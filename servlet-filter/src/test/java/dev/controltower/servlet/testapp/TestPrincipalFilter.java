package dev.controltower.servlet.testapp;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.Principal;

/**
 * Stands in for container authentication in tests: the URL-decoded {@code X-Test-User} header becomes the
 * request's principal (decoded, so that a test can make a principal name with control characters).
 */
public class TestPrincipalFilter implements Filter {
  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    String user = request.getHeader("X-Test-User");
    if (user == null) {
      chain.doFilter(req, res);
      return;
    }
    String name = URLDecoder.decode(user, StandardCharsets.UTF_8);
    chain.doFilter(new HttpServletRequestWrapper(request) {
      @Override
      public Principal getUserPrincipal() {
        return () -> name;
      }
    }, res);
  }
}
