package dev.controltower.servlet.testapp;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.Principal;

/**
 * Stands in for container authentication in tests: the URL-decoded {@code X-Test-User} header becomes the
 * request's principal (decoded, so that a test can make a principal name with control characters).
 * It also stands in for a filter in front that writes the kit's field names: with
 * {@code X-Test-Stale-Fields}, it sets {@code RateLimit}, {@code RateLimit-Policy} and
 * {@code X-Process-Id} to {@code stale} before the chain.
 */
public class TestPrincipalFilter implements Filter {
  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    if (request.getHeader("X-Test-Stale-Fields") != null) {
      HttpServletResponse response = (HttpServletResponse) res;
      for (String name : new String[] {"RateLimit", "RateLimit-Policy", "X-Process-Id"}) {
        response.setHeader(name, "stale");
      }
    }
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
