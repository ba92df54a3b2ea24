package dev.controltower.servlet.testapp;

import dev.controltower.http.ProcessContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Says which servlet mapping the container chose and what the filter made of the request:
 * {@code mapping=/api/* endpoint=default}, or {@code endpoint=untracked} when it passed uncounted.
 */
public class MappingServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    ProcessContext process = (ProcessContext) req.getAttribute(ProcessContext.ATTRIBUTE);
    String text = "mapping=" + req.getHttpServletMapping().getPattern()
        + " endpoint=" + (process == null ? "untracked" : process.endpoint());
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    resp.setContentType("text/plain;charset=utf-8");
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }
}
