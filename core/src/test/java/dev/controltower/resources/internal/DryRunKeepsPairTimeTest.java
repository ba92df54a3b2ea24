package dev.controltower.resources.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.kit.FakeClock;
import dev.controltower.spi.kit.ReferenceStore;
import org.junit.jupiter.api.Test;

/**
 * A dry run, a read and the quiet test of removeExpired write nothing (WindowStore, the Redis script):
 * in particular they do not move the pair's time. When they did, a step at an earlier time (the clock
 * stepped back) stood at the dry run's time, where the pair's earlier admissions were already dead, and
 * was admitted where the oracle (and Redis) still counted them.
 */
class DryRunKeepsPairTimeTest {
  private static final long T0 = 1_700_000_000_000L;
  private final WindowPlan plan = WindowPlan.of(new RateLimitConfig(1, 0, 0, 0), 10);
  private final FakeClock clock = FakeClock.atMillis(T0); // the store's clock stays: no idle expiry
  private final MemoryWindowStore store = new MemoryWindowStore(clock, 1_000, 10);
  private final ReferenceStore oracle = new ReferenceStore();

  private void admitAtT0() {
    assertThat(store.acquire("u", "/e", plan, 1, T0).admitted()).isTrue();
    assertThat(oracle.acquire("u", "/e", plan, 1, T0).admitted()).isTrue();
  }

  private void assertStepBackStillRefused() {
    // 30 s after the admission: the minute window still counts it.
    Outcome expected = oracle.acquire("u", "/e", plan, 1, T0 + 30_000);
    Outcome actual = store.acquire("u", "/e", plan, 1, T0 + 30_000);
    assertThat(expected.admitted()).isFalse();
    assertThat(actual.toString()).isEqualTo(expected.toString());
  }

  @Test
  void check_afterTheWindow_doesNotMoveThePairsTime() {
    admitAtT0();
    assertThat(store.check("u", "/e", plan, 1, T0 + 70_000).admitted()).isTrue();
    assertStepBackStillRefused();
  }

  @Test
  void read_afterTheWindow_doesNotMoveThePairsTime() {
    admitAtT0();
    assertThat(store.read("u", "/e", plan, T0 + 70_000).counts()).containsExactly(0);
    assertStepBackStillRefused();
  }

  @Test
  void removeExpired_keepingABusyPair_doesNotMoveItsTime() {
    WindowPlan withDay = WindowPlan.of(new RateLimitConfig(1, 0, 5, 0), 10);
    assertThat(store.acquire("u", "/e", withDay, 1, T0).admitted()).isTrue();
    assertThat(oracle.acquire("u", "/e", withDay, 1, T0).admitted()).isTrue();
    // The day window keeps the pair; the quiet test judged it at T0 + 70 s.
    assertThat(store.removeExpired((u, e) -> withDay, T0 + 70_000)).isZero();
    Outcome expected = oracle.acquire("u", "/e", withDay, 1, T0 + 30_000);
    Outcome actual = store.acquire("u", "/e", withDay, 1, T0 + 30_000);
    assertThat(expected.admitted()).isFalse();
    assertThat(actual.toString()).isEqualTo(expected.toString());
  }
}
