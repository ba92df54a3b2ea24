package dev.controltower.benchmarks;

import java.util.SplittableRandom;

/**
 * A fixed set of (user, endpoint) pairs, built outside any measured code: 1,000 endpoints shared by
 * {@code count / 1000} users would be kinder to the kit (it keeps the endpoint string by reference);
 * instead every pair gets its own fresh user and endpoint strings, as a servlet container parsing each
 * request would hand them over.
 */
final class Keys {
  final String[] users;
  final String[] endpoints;
  /** {@code users[i] + ":" + endpoints[i]}, for the bare Caffeine floor. */
  final String[] joined;

  Keys(int count, long seed) {
    users = new String[count];
    endpoints = new String[count];
    joined = new String[count];
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < count; i++) {
      users[i] = new String("user-" + (i / 10) + "-" + random.nextInt(1000));
      endpoints[i] = new String("/api/v1/resource-" + (i % 10));
      joined[i] = users[i] + ":" + endpoints[i];
    }
  }

  int size() {
    return users.length;
  }
}
