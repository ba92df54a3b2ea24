package dev.controltower.example;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.controltower.http.ProcessContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /api/agent/run?steps=N&task=...&latency_ms=M}: runs the {@link FakeAgent} inside the
 * request's process. With the default quota of 10 LLM calls, 20 steps (the default) end in
 * {@code 429 max_llm_calls_exceeded}; 5 steps finish with a summary.
 */
public final class AgentRunServlet extends MethodAwareServlet {
  private static final long serialVersionUID = 1L;

  @Override
  Set<String> methods() {
    return Set.of("POST");
  }
  private static final int MAX_STEPS = 1_000;
  private final transient ObjectMapper json = new ObjectMapper();
  private transient FakeAgent agent;

  @Override
  public void init() throws ServletException {
    AppConfig config = (AppConfig) getServletContext().getAttribute(ExampleApp.CONFIG_ATTRIBUTE);
    agent = new FakeAgent(config == null ? 0 : config.llmLatencyMillis());
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
    ProcessContext process = (ProcessContext) request.getAttribute(ProcessContext.ATTRIBUTE);
    if (process == null) {
      throw new ServletException("RateLimitFilter is not mapped in front of " + request.getServletPath());
    }
    int steps;
    int latency;
    try {
      steps = intParameter(request, "steps", 20, 1, MAX_STEPS);
      latency = intParameter(request, "latency_ms", -1, 0, 10_000);
    } catch (IllegalArgumentException e) {
      response.sendError(HttpServletResponse.SC_BAD_REQUEST, e.getMessage());
      return;
    }
    String task = request.getParameter("task") == null ? "research the weather" : request.getParameter("task");
    Map<String, Object> summary;
    try {
      summary = agent.run(process, task, steps, latency);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServletException("agent run interrupted", e);
    }
    response.setContentType("application/json");
    response.setCharacterEncoding("UTF-8");
    json.writeValue(response.getWriter(), summary);
  }

  /** The parameter, or {@code fallback} if absent; a value outside {@code min..max} is refused. */
  private static int intParameter(HttpServletRequest request, String name, int fallback, int min, int max) {
    String text = request.getParameter(name);
    if (text == null) {
      return fallback;
    }
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      value = Integer.MIN_VALUE;
    }
    if (value < min || value > max) {
      // The value itself is not echoed: it is client text.
      throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max);
    }
    return value;
  }
}
