package dev.controltower.servlet;

import dev.controltower.http.Admission;
import dev.controltower.http.RequestGate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Run in its own small JVM by {@link MemoryBoundProcessTest}: a {@link RateLimitFilter} configured the
 * {@code web.xml} way (init-parameters only) behind a trusted proxy, flooded with invented client
 * addresses in {@code X-Forwarded-For}, a given number of them, while one client that spent its budget
 * must stay limited (within one minute window, on the real clock: the flood must end within 50 s, or
 * the run fails as incomplete). Arguments: the number of identities, then {@code max-keys} or
 * {@code default}. Prints one summary
 * line and exits 0 when the exhausted client was refused every time; 1 when it was admitted.
 */
public final class FloodMain {
  private FloodMain() {}

  public static void main(String[] args) throws Exception {
    long identities = Long.parseLong(args[0]);
    long seconds = 50; // the exhausted client's window is a real minute: the flood must end inside it
    if (identities < 1) {
      throw new IllegalArgumentException("identities must be >= 1 but was " + identities);
    }
    Map<String, String> params = new HashMap<>(Map.of("trusted-proxies", "10.0.0.0/8", "requests-per-minute", "5",
        "requests-per-hour", "0", "requests-per-day", "0"));
    if (!args[1].equals("default")) {
      params.put("max-keys", args[1]);
    }
    RateLimitFilter filter = new RateLimitFilter();
    filter.init(InitTest.config(params));
    RequestGate gate = filter.gate();

    String exhausted = gate.clientKey(null, forwardedFor("198.51.100.7"), "10.0.0.1");
    for (int i = 0; i < 5; i++) {
      gate.release(gate.admit(exhausted, "default", null).process());
    }
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    long flood = 0;
    long checks = 0;
    long admittedWhileExhausted = 0;
    int address = 0x0B000000; // 11.0.0.0 upwards: never a trusted proxy, never the exhausted client
    while (flood < identities && System.nanoTime() < deadline) {
      for (int i = 0; i < 10_000; i++) {
        String ip = ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "."
            + (address & 0xff);
        address++;
        Admission a = gate.admit(gate.clientKey(null, forwardedFor(ip), "10.0.0.1"), "default", null);
        gate.release(a.process());
        flood++;
      }
      Admission check = gate.admit(exhausted, "default", null);
      checks++;
      if (check.admitted()) {
        admittedWhileExhausted++;
        gate.release(check.process());
      }
    }
    Runtime rt = Runtime.getRuntime();
    System.gc();
    long usedMb = (rt.totalMemory() - rt.freeMemory()) >> 20;
    System.out.println("flood=" + flood + " checks=" + checks + " admittedWhileExhausted=" + admittedWhileExhausted
        + " trackedKeys=" + gate.rateLimiter().trackedKeys() + " heapUsedMb=" + usedMb + " maxHeapMb="
        + (rt.maxMemory() >> 20));
    if (flood < identities) {
      System.out.println("incomplete: the flood did not finish inside the exhausted client's minute");
    }
    System.exit(admittedWhileExhausted == 0 && checks > 0 && flood >= identities ? 0 : 1);
  }

  private static Function<String, List<String>> forwardedFor(String ip) {
    List<String> value = List.of(ip);
    return name -> name.equalsIgnoreCase("X-Forwarded-For") ? value : List.of();
  }
}
