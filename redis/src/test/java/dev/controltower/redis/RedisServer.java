package dev.controltower.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} of the test's own, on a free loopback port, with no persistence
 * ({@code --save '' --appendonly no}) in a temporary directory. Stopped by its pid on {@link #close()}
 * and, whatever happens to the tests, by a shutdown hook. Tests never depend on a server they did not
 * start. Fault tests kill it ({@link #kill()}), freeze it ({@link #pause()}) and start it again on the
 * same port, empty ({@link #restart()}).
 */
final class RedisServer implements AutoCloseable {
  private static RedisServer shared;

  private final int port;
  private final Path dir;
  private final Thread hook;
  private volatile Process process;
  private volatile boolean paused;
  private RedisClient adminClient;
  private StatefulRedisConnection<String, String> admin;

  private RedisServer(int port, Path dir) {
    this.port = port;
    this.dir = dir;
    this.hook = new Thread(this::destroy, "redis-server-" + port + "-stopper");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** A new server; the caller closes it. */
  static RedisServer start() {
    try {
      RedisServer server = new RedisServer(freePort(), Files.createTempDirectory("controltower-redis-"));
      server.launch();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One server for every test of this JVM that does not break it; stopped by the shutdown hook. */
  static synchronized RedisServer shared() {
    if (shared == null) {
      shared = start();
    }
    return shared;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      return socket.getLocalPort();
    }
  }

  private void launch() throws IOException {
    ProcessBuilder pb = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no", "--loglevel", "warning");
    pb.redirectErrorStream(true);
    pb.redirectOutput(dir.resolve("redis.log").toFile());
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("redis-server is not installed (apt-get install -y redis-server; .ci/run does)",
          e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!ping()) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server exited with " + process.exitValue() + ": "
            + Files.readString(dir.resolve("redis.log")));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("redis-server did not answer PING on port " + port + " within 10 s");
      }
      sleep(10);
    }
  }

  private boolean ping() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.readNBytes(buf, 0, 7);
      return n == 7 && new String(buf, StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  /** kill -9. */
  void kill() {
    closeAdmin();
    Process p = process;
    p.destroyForcibly();
    waitFor(p);
  }

  /** kill -STOP: the server keeps its connections but answers nothing. */
  void pause() {
    signal("STOP");
    paused = true;
  }

  /** kill -CONT. */
  void resume() {
    signal("CONT");
    paused = false;
  }

  /** Kills the server (if alive) and starts an empty one on the same port. */
  void restart() {
    if (paused) {
      resume();
    }
    if (process.isAlive()) {
      kill();
    }
    try {
      launch();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A connection for the tests' own commands (INFO, SCRIPT EXISTS, KEYS), not the store's. */
  synchronized RedisCommands<String, String> admin() {
    if (admin == null || !admin.isOpen()) {
      closeAdmin();
      adminClient = RedisClient.create(uri());
      admin = adminClient.connect();
    }
    return admin.sync();
  }

  /** How many times Redis ran {@code command} (lower case, e.g. "evalsha"), from INFO commandstats. */
  long calls(String command) {
    String info = admin().info("commandstats");
    String prefix = "cmdstat_" + command + ":calls=";
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(prefix)) {
        return Long.parseLong(line.substring(prefix.length(), line.indexOf(',', prefix.length())));
      }
    }
    return 0;
  }

  private synchronized void closeAdmin() {
    if (admin != null) {
      admin.close();
      admin = null;
    }
    if (adminClient != null) {
      adminClient.shutdown(0, 1, TimeUnit.SECONDS);
      adminClient = null;
    }
  }

  private void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void destroy() {
    Process p = process;
    if (p != null && p.isAlive()) {
      if (paused) {
        try {
          new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start().waitFor();
        } catch (IOException | InterruptedException e) {
          // killed below anyway
        }
      }
      p.destroyForcibly();
      waitFor(p);
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temporary directory; best effort
    }
  }

  private static void waitFor(Process p) {
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    closeAdmin();
    destroy();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // shutting down already
    }
  }
}
