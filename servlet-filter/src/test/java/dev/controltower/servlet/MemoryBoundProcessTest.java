package dev.controltower.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * http.md "Memory bound from configuration": a 256 MB JVM whose filter is configured only by
 * init-parameters, with {@code max-keys}, survives a sustained flood of invented client addresses
 * (through a trusted proxy), and a client that spent its budget stays limited throughout.
 */
class MemoryBoundProcessTest {

  @Test
  void flood_with256MbHeapAndMaxKeys_survivesAndExhaustedClientStaysLimited() throws Exception {
    Process p = flood("1000000", "200000"); // five times the bound in invented identities

    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();

    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("admittedWhileExhausted=0")
        .contains("max-keys 200000 (about 49 MB of heap at 257 bytes per pair)");
    long flood = Long.parseLong(out.replaceAll("(?s).*flood=(\\d+).*", "$1"));
    assertThat(flood).as(out).isEqualTo(1_000_000); // well past the bound, five times over
    long tracked = Long.parseLong(out.replaceAll("(?s).*trackedKeys=(\\d+).*", "$1"));
    assertThat(tracked).as(out).isLessThanOrEqualTo(200_000);
  }

  /** Starts {@link FloodMain} in its own JVM with a 256 MB heap that exits on OutOfMemoryError. */
  static Process flood(String identities, String maxKeys) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-XX:TieredStopAtLevel=1",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-Dorg.slf4j.simpleLogger.log.dev.controltower.http=info",
        "-cp", System.getProperty("java.class.path"), FloodMain.class.getName(), identities, maxKeys))
        .redirectErrorStream(true).start();
  }
}
