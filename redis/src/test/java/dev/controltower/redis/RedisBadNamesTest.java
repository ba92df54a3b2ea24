package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimitKey;
import dev.controltower.spi.Outcome;
import dev.controltower.spi.WindowPlan;
import dev.controltower.spi.kit.FakeClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Names that could break a protocol or a key, or make two pairs one: CRLF (RESP's separator), 64 KB,
 * braces (the hash tag's), NUL, glob characters, lone surrogates, emoji, and pairs whose concatenations
 * are equal. Each pair counts alone, and comes back from keys() and resetUser() exactly as given.
 */
class RedisBadNamesTest {
  private static final WindowPlan TWO_PER_MINUTE = WindowPlan.of(new RateLimitConfig(2, 0, 0, 0), 10);

  private RedisWindowStore store;

  @BeforeEach
  void open() {
    store = RedisStores.onShared(FakeClock.atSeconds(100)).build();
  }

  @AfterEach
  void close() {
    store.close();
  }

  static List<String> names() {
    List<String> names = new ArrayList<>(List.of("", "a", "a\r\nb", "\r\n", "*\r\n$3\r\nDEL\r\n", "{tag}", "}{",
        "\u0000", "a\u0000", "x*", "[a-z]?", "\\", "\uD800", "\uDC00", "\uD800x", "\uDBFF\uDFFF", "\uFFFD", "\uFFFF",
        "\uD83D\uDE00", "\u202Eevil", "e\u0301", "\u00E9", "Ω", "中文", "ab", "a b", "A"));
    names.add("x".repeat(64 * 1024));
    names.add("x".repeat(64 * 1024 - 1) + "y");
    names.add("\uD800".repeat(32 * 1024));
    names.add("\r\n".repeat(32 * 1024));
    return names;
  }

  @Test
  void acquire_everyOddName_countsAloneAndSurvivesTheRoundTrip() {
    List<String> names = names();
    long now = 100_000;
    for (String name : names) {
      Outcome first = store.acquire(name, "/e", TWO_PER_MINUTE, 1, now);
      assertThat(first.admitted()).as(describe(name)).isTrue();
      assertThat(first.tightestCount()).as("%s counts only its own request", describe(name)).isEqualTo(1);
    }
    for (String name : names) {
      Outcome second = store.acquire("u", name, TWO_PER_MINUTE, 1, now);
      assertThat(second.tightestCount()).as("endpoint %s", describe(name)).isEqualTo(1);
    }
    Set<RateLimitKey> expected = new HashSet<>();
    for (String name : names) {
      expected.add(new RateLimitKey(name, "/e"));
      expected.add(new RateLimitKey("u", name));
    }
    assertThat(new HashSet<>(store.keys(10_000))).isEqualTo(expected);
    assertThat(store.size()).isEqualTo(expected.size());
    assertThat(store.resetUser("u")).containsExactlyInAnyOrderElementsOf(names);
    for (String name : names) {
      assertThat(store.resetUser(name)).as(describe(name)).containsExactly("/e");
    }
    assertThat(store.size()).isZero();
  }

  @Test
  void acquire_namesWithEqualConcatenations_areDifferentPairs() {
    long now = 100_000;
    assertThat(store.acquire("ab", "c", TWO_PER_MINUTE, 2, now).admitted()).isTrue();
    assertThat(store.acquire("a", "bc", TWO_PER_MINUTE, 2, now).admitted()).isTrue();
    assertThat(store.acquire("abc", "", TWO_PER_MINUTE, 2, now).admitted()).isTrue();
    assertThat(store.acquire("", "abc", TWO_PER_MINUTE, 2, now).admitted()).isTrue();
    assertThat(store.acquire("ab", "c", TWO_PER_MINUTE, 1, now).admitted()).isFalse();
  }

  private static String describe(String name) {
    return name.length() > 40 ? name.length() + " chars starting " + escape(name.substring(0, 8)) : escape(name);
  }

  private static String escape(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      out.append(c < 0x20 || c > 0x7E ? String.format("\\u%04X", (int) c) : String.valueOf(c));
    }
    return out.append('"').toString();
  }
}
