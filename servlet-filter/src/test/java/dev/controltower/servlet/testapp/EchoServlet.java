package dev.controltower.servlet.testapp;

import dev.controltower.http.ProcessContext;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The test application: echoes what the filter gave the request, and on the REQUEST dispatch does what
 * the query asks: {@code llm=N} records N LLM calls, {@code reserve=N} reserves N tokens,
 * {@code tokens=in,out} records one LLM call with those tokens, {@code hold=1} waits for {@link #hold},
 * {@code tool=N} tool calls; {@code throw=runtime|servlet};
 * {@code forward=/p}, {@code include=/p}; {@code error=500} (an ERROR dispatch); {@code async=complete|dispatch|timeout}
 * with {@code timeout=ms}.
 */
public class EchoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  /** What {@code hold=1} waits for; tests replace and release it. */
  public static volatile java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(0);

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws ServletException, IOException {
    if (req.getDispatcherType() == DispatcherType.REQUEST) {
      ProcessContext process = (ProcessContext) req.getAttribute(ProcessContext.ATTRIBUTE);
      if (req.getParameter("llm") != null) {
        for (int i = Integer.parseInt(req.getParameter("llm")); i > 0; i--) {
          process.recordLlmCall(100, 50);
        }
      }
      if (req.getParameter("reserve") != null) {
        process.reserveTokens(Long.parseLong(req.getParameter("reserve")));
      }
      if (req.getParameter("tokens") != null) {
        String[] inOut = req.getParameter("tokens").split(",");
        process.recordLlmCall(Long.parseLong(inOut[0]), Long.parseLong(inOut[1]));
      }
      if (req.getParameter("hold") != null) {
        try {
          hold.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (req.getParameter("tool") != null) {
        for (int i = Integer.parseInt(req.getParameter("tool")); i > 0; i--) {
          process.recordToolCall();
        }
      }
      String toThrow = req.getParameter("throw");
      if ("runtime".equals(toThrow)) {
        throw new IllegalStateException("boom from the servlet");
      }
      if ("servlet".equals(toThrow)) {
        throw new ServletException("boom from the servlet");
      }
      if (req.getParameter("forward") != null) {
        req.getRequestDispatcher(req.getParameter("forward")).forward(req, resp);
        return;
      }
      if (req.getParameter("include") != null) {
        req.getRequestDispatcher(req.getParameter("include")).include(req, resp);
        write(resp, "included");
        return;
      }
      if (req.getParameter("error") != null) {
        resp.sendError(Integer.parseInt(req.getParameter("error")));
        return;
      }
      String async = req.getParameter("async");
      if (async != null) {
        AsyncContext ctx = req.startAsync();
        switch (async) {
          case "complete" -> ctx.start(() -> {
            try {
              write((HttpServletResponse) ctx.getResponse(), "async " + describe(req));
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
            ctx.complete();
          });
          case "dispatch" -> ctx.start(ctx::dispatch);
          case "timeout" -> ctx.setTimeout(Long.parseLong(req.getParameter("timeout")));
          default -> throw new ServletException("unknown async mode");
        }
        return;
      }
    }
    if (req.getDispatcherType() == DispatcherType.INCLUDE) {
      return; // the including servlet writes the body
    }
    write(resp, req.getDispatcherType() + " " + describe(req));
  }

  private static String describe(HttpServletRequest req) {
    ProcessContext process = (ProcessContext) req.getAttribute(ProcessContext.ATTRIBUTE);
    return process == null ? "untracked" : "key=" + process.userKey() + " endpoint=" + process.endpoint();
  }

  private static void write(HttpServletResponse resp, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    resp.setContentType("text/plain;charset=utf-8");
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }
}
