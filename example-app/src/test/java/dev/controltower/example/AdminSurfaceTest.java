package dev.controltower.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The example's admin surface as an attacker and a careless operator meet it: the real app, real HTTP. */
class AdminSurfaceTest {
  static final String TOKEN = "surface-token-0123456789";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ExampleApp app;

  @BeforeEach
  void start() throws Exception {
    app = ExampleApp.start(AppConfig.from(new String[] {"--port=0", "--admin-token=" + TOKEN}, name -> null));
  }

  @AfterEach
  void stop() throws Exception {
    app.stop();
  }

  private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(app.baseUrl() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  @Test
  void printWelcome_configuredToken_isNeverPrinted() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    app.printWelcome(new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain(TOKEN).contains("<your admin token>");
  }

  @Test
  void printWelcome_generatedToken_isPrintedForCurlAndDashboard() throws Exception {
    ExampleApp generated = ExampleApp.start(AppConfig.from(new String[] {"--port=0"}, name -> null));
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      generated.printWelcome(new PrintStream(out, true, StandardCharsets.UTF_8));
      String text = out.toString(StandardCharsets.UTF_8);
      String token = text.replaceAll("(?s).*#token=([0-9a-f]{32}).*", "$1");

      assertThat(token).hasSize(32);
      assertThat(text).contains("Authorization: Bearer " + token);
    } finally {
      generated.stop();
    }
  }

  @Test
  void from_emptyOrBlankToken_isRefused() {
    assertThatThrownBy(() -> AppConfig.from(new String[] {"--admin-token="}, n -> null))
        .hasMessageStartingWith("admin-token must not be empty but was '--admin-token='");
    assertThatThrownBy(() -> AppConfig.from(new String[] {}, Map.of("CONTROLTOWER_ADMIN_TOKEN", "   ")::get))
        .hasMessageStartingWith("admin-token must not be blank but CONTROLTOWER_ADMIN_TOKEN was set to '   '");
  }

  @Test
  void wrongTokens_areThrottledPerClient_thenEvenTheRightOneWaits() throws Exception {
    for (int i = 0; i < 10; i++) {
      assertThat(send("GET", "/admin/api/system", "guess-" + i, null).statusCode()).isEqualTo(401);
    }

    HttpResponse<String> throttled = send("GET", "/admin/api/system", "guess-10", null);
    HttpResponse<String> right = send("GET", "/admin/api/system", TOKEN, null);

    assertThat(throttled.statusCode()).isEqualTo(429);
    assertThat(Long.parseLong(header(throttled, "Retry-After"))).isBetween(1L, 70L);
    assertThat(throttled.body()).contains("too_many_failed_attempts");
    assertThat(right.statusCode()).isEqualTo(429);
  }

  @Test
  void rightToken_costsNothing() throws Exception {
    for (int i = 0; i < 15; i++) {
      assertThat(send("GET", "/admin/api/system", TOKEN, null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void patch_deeplyNestedHugeOrOversizedBody_is400WithoutEchoOrStackTrace() throws Exception {
    String deep = "{\"max_llm_calls\":" + "[".repeat(2000) + "]".repeat(2000) + "}";
    String hugeValue = "{\"max_llm_calls\":\"" + "A".repeat(3000) + "\"}";
    String longName = "{\"" + "C".repeat(3000) + "\":1}";

    String oversized = "{\"max_llm_calls\":\"" + "B".repeat(AdminResource.MAX_BODY_BYTES) + "\"}";

    for (String body : new String[] {deep, hugeValue, oversized, longName}) {
      HttpResponse<String> r = send("PATCH", "/admin/api/processes/p-1/quota", TOKEN, body);

      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.body()).hasSizeLessThan(400).doesNotContain("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
          .doesNotContain("BBBB").doesNotContain("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")
          .doesNotContain("Exception").doesNotContain("at com.");
    }
  }

  /**
   * A body declared far over the bound is refused from its headers alone, before a byte of it is read:
   * the client here sends the headers of a 10 MiB body and then nothing, as curl does while it waits
   * for "100 Continue". (Sending the 10 MiB outright would race: an early answer followed by a close
   * can be lost to a TCP reset while the client is still writing, which no server can prevent.)
   */
  @Test
  void patch_declaredOversizedBody_isRefusedBeforeItIsSent() throws Exception {
    URI base = URI.create(app.baseUrl());
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(10_000);
      String head = "PATCH /admin/api/processes/p-1/quota HTTP/1.1\r\nHost: " + base.getHost() + "\r\n"
          + "Authorization: Bearer " + TOKEN + "\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + (10 * 1024 * 1024) + "\r\nExpect: 100-continue\r\n\r\n";
      socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();

      String answer = readHead(socket.getInputStream());

      assertThat(answer).startsWith("HTTP/1.1 400 ").doesNotContain("100 Continue");
    }
  }

  /** The status line and headers of one response (a timeout if the server waits for the body instead). */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    return head.toString();
  }

  @Test
  void dashboard_cannotBeFramed_andAdminJsonIsNotCached() throws Exception {
    HttpResponse<String> dashboard = send("GET", "/admin/dashboard", null, null);
    HttpResponse<String> system = send("GET", "/admin/api/system", TOKEN, null);
    HttpResponse<String> missing = send("GET", "/admin/api/processes/nope", TOKEN, null);

    assertThat(header(dashboard, "Content-Security-Policy")).contains("frame-ancestors 'none'");
    assertThat(header(dashboard, "X-Frame-Options")).isEqualTo("DENY");
    assertThat(header(system, "Cache-Control")).isEqualTo("no-store");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(header(missing, "Cache-Control")).isEqualTo("no-store");
  }

  @Test
  void servlets_unservedMethod_is405WithAllow() throws Exception {
    HttpResponse<String> getRun = send("GET", "/api/agent/run", null, null);
    HttpResponse<String> deleteHello = send("DELETE", "/api/hello", null, null);
    HttpResponse<String> postDashboard = send("POST", "/admin/dashboard", null, null);

    assertThat(getRun.statusCode()).isEqualTo(405);
    assertThat(header(getRun, "Allow")).isEqualTo("POST, OPTIONS");
    assertThat(deleteHello.statusCode()).isEqualTo(405);
    assertThat(header(deleteHello, "Allow")).isEqualTo("GET, HEAD, OPTIONS");
    assertThat(postDashboard.statusCode()).isEqualTo(405);
    assertThat(header(postDashboard, "Allow")).isEqualTo("GET, HEAD, OPTIONS");
  }
}
