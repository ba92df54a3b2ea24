package dev.controltower.benchmarks;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs {@link CoreBenchmark} in rounds and prints one table of medians and ratios.
 *
 * <p>The machines are shared and noisy, so a ratio is only worth quoting when both sides were measured
 * at nearly the same time. Instead of all forks of one benchmark followed by all forks of the next, each
 * round runs every benchmark once (one fork, a short warm-up, a few one-second iterations), and rounds
 * repeat: noise that lasts a few seconds then hits one sample of each side rather than every sample of
 * one side. Figures are medians of all measured iterations; each ratio is also given per round, as the
 * median and the range of the per-round ratios.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.controltower.benchmarks.Suite [rounds] [threads,...]
 * [benchmark regex]}; defaults 3 rounds, threads 1,2, every benchmark.
 */
public final class Suite {
  private static final String[] BENCHMARKS = {
      // hotKey_controlTowerMicrometer right after hotKey_controlTower: the two sides of the metrics
      // ratio are measured back to back in each round
      "hotKey_controlTower", "hotKey_controlTowerMicrometer", "hotKey_controlTowerCountingFloor", "hotKey_bucket4jCaffeine",
      "hotKeyWeighted_controlTower", "hotKeyWeighted_bucket4jCaffeine",
      "randomKey_controlTower", "randomKey_bucket4jCaffeine", "randomKey_bareCaffeineGet",
      "single_bucket4jBucket", "single_resilience4jAtomic", "single_guava",
      "tracker_cycle",
  };

  /** Ratios quoted against the targets: numerator, denominator, target. */
  private static final String[][] RATIOS = {
      {"hotKey_controlTower", "hotKey_bucket4jCaffeine", "2.0"},
      {"hotKey_controlTowerMicrometer", "hotKey_controlTower", "0.9"},
      {"hotKey_controlTowerCountingFloor", "hotKey_controlTower", ""},
      {"hotKeyWeighted_controlTower", "hotKeyWeighted_bucket4jCaffeine", ""},
      {"randomKey_controlTower", "randomKey_bucket4jCaffeine", "2.0"},
      {"randomKey_controlTower", "randomKey_bareCaffeineGet", ""},
  };

  private Suite() {}

  public static void main(String[] args) throws RunnerException {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    String[] threadCounts = (args.length > 1 ? args[1] : "1,2").split(",");
    String filter = args.length > 2 ? args[2] : ".*";

    // (benchmark, threads) -> per round, the iteration scores in ops/us
    Map<String, List<List<Double>>> scores = new LinkedHashMap<>();
    Map<String, List<Double>> allocation = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (String t : threadCounts) {
        int threads = Integer.parseInt(t.trim());
        for (String benchmark : BENCHMARKS) {
          if (!benchmark.matches(filter)) {
            continue;
          }
          System.err.printf(Locale.ROOT, "round %d/%d, %d thread(s): %s%n", round, rounds, threads, benchmark);
          Options options = new OptionsBuilder()
              .include(CoreBenchmark.class.getName() + "\\." + benchmark + "$")
              .forks(1)
              .threads(threads)
              .warmupIterations(3)
              .warmupTime(TimeValue.seconds(1))
              .measurementIterations(4)
              .measurementTime(TimeValue.seconds(1))
              .addProfiler(GCProfiler.class)
              .verbosity(VerboseMode.SILENT)
              .build();
          Collection<RunResult> results = new Runner(options).run();
          String key = benchmark + "|" + threads;
          List<Double> roundScores = new ArrayList<>();
          for (RunResult run : results) {
            for (BenchmarkResult b : run.getBenchmarkResults()) {
              for (IterationResult it : b.getIterationResults()) {
                roundScores.add(it.getPrimaryResult().getScore());
              }
            }
            Result<?> norm = run.getSecondaryResults().get("gc.alloc.rate.norm");
            if (norm != null) {
              allocation.computeIfAbsent(key, k -> new ArrayList<>()).add(norm.getScore());
            }
          }
          scores.computeIfAbsent(key, k -> new ArrayList<>()).add(roundScores);
        }
      }
    }
    print(scores, allocation, threadCounts);
  }

  private static void print(Map<String, List<List<Double>>> scores, Map<String, List<Double>> allocation,
      String[] threadCounts) {
    System.out.println();
    System.out.printf(Locale.ROOT, "%-28s %7s %12s %10s %9s%n", "benchmark", "threads", "median op/us",
        "ns/op*thr", "B/op");
    for (String t : threadCounts) {
      for (String benchmark : BENCHMARKS) {
        String key = benchmark + "|" + t.trim();
        if (!scores.containsKey(key)) {
          continue;
        }
        double median = median(flatten(scores.get(key)));
        List<Double> alloc = allocation.getOrDefault(key, List.of());
        System.out.printf(Locale.ROOT, "%-28s %7s %12.3f %10.1f %9s%n", benchmark, t.trim(), median,
            1000.0 / median * Integer.parseInt(t.trim()),
            alloc.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f", median(alloc)));
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "%-56s %7s %8s %18s %7s %s%n", "ratio", "threads", "median",
        "per round (range)", "target", "");
    for (String t : threadCounts) {
      for (String[] ratio : RATIOS) {
        List<List<Double>> top = scores.get(ratio[0] + "|" + t.trim());
        List<List<Double>> bottom = scores.get(ratio[1] + "|" + t.trim());
        if (top == null || bottom == null) {
          continue;
        }
        double overall = median(flatten(top)) / median(flatten(bottom));
        List<Double> perRound = new ArrayList<>();
        for (int r = 0; r < Math.min(top.size(), bottom.size()); r++) {
          perRound.add(median(top.get(r)) / median(bottom.get(r)));
        }
        String verdict = ratio[2].isEmpty() ? "" : overall >= Double.parseDouble(ratio[2]) ? "met" : "MISSED";
        System.out.printf(Locale.ROOT, "%-56s %7s %7.2fx %7.2fx (%.2f-%.2f) %7s %s%n",
            ratio[0] + " / " + ratio[1], t.trim(), overall, median(perRound),
            perRound.stream().mapToDouble(Double::doubleValue).min().orElse(0),
            perRound.stream().mapToDouble(Double::doubleValue).max().orElse(0),
            ratio[2].isEmpty() ? "-" : ">= " + ratio[2] + "x", verdict);
      }
    }
  }

  private static List<Double> flatten(List<List<Double>> rounds) {
    List<Double> all = new ArrayList<>();
    rounds.forEach(all::addAll);
    return all;
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    if (n == 0) {
      return Double.NaN;
    }
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
