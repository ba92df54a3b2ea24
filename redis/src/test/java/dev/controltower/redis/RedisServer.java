package dev.controltower.redis;

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
public final class RedisServer implements AutoCloseable {
  private static RedisServer shared;

  private final int port;
  private final Path dir;
  private final Thread hook;
  private volatile Process process;
  private volatile boolean paused;

  private RedisServer(int port, Path dir) {
    this.port = port;
    this.dir = dir;
    this.hook = new Thread(this::destroy, "redis-server-" + port + "-stopper");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** A new server; the caller closes it. */
  public static RedisServer start() {
    try {
      RedisServer server = new RedisServer(freePort(), Files.createTempDirectory("controltower-redis-"));
      server.launch();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One server for every test of this JVM that does not break it; stopped by the shutdown hook. */
  public static synchronized RedisServer shared() {
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

  /**
   * FLUSHALL: removes every key. The tests of a JVM run one class at a time, and each store has a key
   * prefix of its own; a class whose stores SCAN in a loop (cleanups, resets) calls this first on the
   * shared server, so that the keys other classes left behind (floods of distinct keys, with a day's
   * TTL) do not make every scan walk them.
   */
  public void flushAll() {
    Object reply = command("FLUSHALL");
    if (!"OK".equals(reply)) {
      throw new IllegalStateException("FLUSHALL answered " + reply);
    }
  }

  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  /** kill -9. */
  void kill() {
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

  /**
   * Runs one command on a connection of its own, by hand (RESP over a socket): the tests' own commands
   * (INFO, SCRIPT EXISTS) start no client threads, so that thread counts see only the store's.
   *
   * @return a String (status or bulk), a Long, or a List of those; an error reply throws
   */
  public Object command(String... args) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
      s.setSoTimeout(5_000);
      StringBuilder out = new StringBuilder("*").append(args.length).append("\r\n");
      for (String a : args) {
        out.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
      }
      s.getOutputStream().write(out.toString().getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return reply(new java.io.BufferedInputStream(s.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Object reply(InputStream in) throws IOException {
    int type = in.read();
    String line = line(in);
    switch (type) {
      case '+':
        return line;
      case '-':
        throw new IllegalStateException("redis: " + line);
      case ':':
        return Long.parseLong(line);
      case '$': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        byte[] data = in.readNBytes(n);
        in.readNBytes(2);
        return new String(data, StandardCharsets.UTF_8);
      }
      case '*': {
        int n = Integer.parseInt(line);
        java.util.List<Object> items = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
          items.add(reply(in));
        }
        return items;
      }
      default:
        throw new IllegalStateException("unexpected reply type " + type);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != '\r') {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      b.append((char) c);
    }
    in.read();
    return b.toString();
  }

  /** How many times Redis ran {@code command} (lower case, e.g. "evalsha"), from INFO commandstats. */
  public long calls(String command) {
    String info = (String) command("INFO", "commandstats");
    String prefix = "cmdstat_" + command + ":calls=";
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(prefix)) {
        return Long.parseLong(line.substring(prefix.length(), line.indexOf(',', prefix.length())));
      }
    }
    return 0;
  }

  /** Whether Redis holds a script of this digest. */
  boolean scriptExists(String sha) {
    return Long.valueOf(1).equals(((java.util.List<?>) command("SCRIPT", "EXISTS", sha)).get(0));
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
    destroy();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // shutting down already
    }
  }
}
