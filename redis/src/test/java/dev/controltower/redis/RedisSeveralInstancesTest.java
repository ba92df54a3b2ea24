package dev.controltower.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.controltower.resources.RateLimitConfig;
import dev.controltower.resources.RateLimiter;
import dev.controltower.resources.ResourceTracker;
import dev.controltower.servlet.RateLimitFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three instances of a service, each an embedded Jetty with the servlet {@link RateLimitFilter} over a
 * limiter on its own {@link RedisWindowStore} (its own Lettuce client), one Redis. Sixteen threads send
 * one user's requests round-robin to all three: exactly the limit is admitted in all, not three times
 * it. Real time (Redis's TIME); a generous timeout, because what is tested is the sharing, not faults.
 */
class RedisSeveralInstancesTest {
  private static final class Ok extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) {
      response.setStatus(200);
    }
  }

  private static final class Instance {
    final RedisWindowStore store;
    final Server server;
    final int port;

    Instance(String prefix, int limit) throws Exception {
      store = RedisWindowStore.builder().uri(RedisServer.shared().uri()).keyPrefix(prefix)
          .timeout(Duration.ofSeconds(2)).build();
      RateLimiter limiter = RateLimiter.builder()
          .defaultConfig(RateLimitConfig.builder().requestsPerMinute(limit).requestsPerHour(0).requestsPerDay(0).build())
          .store(store).build();
      server = new Server();
      ServerConnector connector = new ServerConnector(server);
      connector.setHost("127.0.0.1");
      connector.setPort(0);
      server.addConnector(connector);
      ServletContextHandler context = new ServletContextHandler("/");
      context.addFilter(new FilterHolder(new RateLimitFilter(limiter, ResourceTracker.create())), "/*",
          EnumSet.of(DispatcherType.REQUEST));
      context.addServlet(new ServletHolder(new Ok()), "/*");
      server.setHandler(context);
      server.start();
      port = connector.getLocalPort();
    }

    void close() throws Exception {
      server.stop();
      store.close();
    }
  }

  @ParameterizedTest(name = "limit {0}")
  @ValueSource(ints = {1, 10, 1000})
  void filter_sixteenThreadsOnOneUserAcrossThreeInstances_admitExactlyTheLimit(int limit) throws Exception {
    String prefix = "instances-" + limit + "-" + System.nanoTime() + ":";
    List<Instance> instances = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    try {
      for (int i = 0; i < 3; i++) {
        instances.add(new Instance(prefix, limit));
      }
      int attempts = limit + 48 + limit / 2;
      AtomicInteger next = new AtomicInteger();
      AtomicInteger admitted = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      AtomicInteger other = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        done.add(pool.submit(() -> {
          start.await();
          int i;
          while ((i = next.getAndIncrement()) < attempts) {
            Instance target = instances.get(i % 3);
            HttpResponse<Void> r = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + target.port + "/api/x")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding());
            switch (r.statusCode()) {
              case 200 -> admitted.incrementAndGet();
              case 429 -> refused.incrementAndGet();
              default -> other.incrementAndGet();
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get();
      }
      assertThat(other.get()).as("answers other than 200 and 429").isZero();
      assertThat(admitted.get()).as("admitted across three instances").isEqualTo(limit);
      assertThat(refused.get()).isEqualTo(attempts - limit);
      for (Instance instance : instances) {
        assertThat(instance.store.counters().failures()).as("no fault hid a count").isZero();
      }
    } finally {
      pool.shutdownNow();
      for (Instance instance : instances) {
        instance.close();
      }
    }
  }
}
