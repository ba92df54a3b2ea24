package dev.controltower.resources.internal;

import dev.controltower.resources.LimitType;
import dev.controltower.resources.QuotaViolation;
import dev.controltower.spi.ControlTowerListener;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ControlTowerListener} that no exception escapes: the first one is logged at WARN (with its
 * stack trace and which event it was), later ones are dropped without a word, so a broken listener can
 * neither fail requests nor flood the log. Thread-safe if the delegate is.
 */
public final class GuardedListener implements ControlTowerListener {
  private final ControlTowerListener delegate;
  private final Logger log;
  private final AtomicBoolean warned = new AtomicBoolean();

  private GuardedListener(ControlTowerListener delegate, Logger log) {
    this.delegate = delegate;
    this.log = log;
  }

  /**
   * {@code listener} guarded; {@link ControlTowerListener#NOOP} and a guarded listener as they are.
   *
   * @param log where the first failure goes; null for the logger of {@link ControlTowerListener}
   */
  public static ControlTowerListener of(ControlTowerListener listener, Logger log) {
    Checks.notNull("listener", listener);
    if (listener == ControlTowerListener.NOOP || listener instanceof GuardedListener) {
      return listener;
    }
    return new GuardedListener(listener, log == null ? LoggerFactory.getLogger(ControlTowerListener.class) : log);
  }

  private void failed(String event, RuntimeException e) {
    if (warned.compareAndSet(false, true)) {
      log.warn("listener {} failed on {} and is ignored; this is logged once, later failures are not", delegate,
          event, e);
    }
  }

  @Override
  public void onAdmitted(String endpoint, LimitType window) {
    try {
      delegate.onAdmitted(endpoint, window);
    } catch (RuntimeException e) {
      failed("onAdmitted", e);
    }
  }

  @Override
  public void onRejected(String endpoint, LimitType window) {
    try {
      delegate.onRejected(endpoint, window);
    } catch (RuntimeException e) {
      failed("onRejected", e);
    }
  }

  @Override
  public void onQuotaViolation(String endpoint, QuotaViolation violation) {
    try {
      delegate.onQuotaViolation(endpoint, violation);
    } catch (RuntimeException e) {
      failed("onQuotaViolation", e);
    }
  }

  @Override
  public void onProcessStarted(String endpoint) {
    try {
      delegate.onProcessStarted(endpoint);
    } catch (RuntimeException e) {
      failed("onProcessStarted", e);
    }
  }

  @Override
  public void onProcessEnded(String endpoint, long durationNanos) {
    try {
      delegate.onProcessEnded(endpoint, durationNanos);
    } catch (RuntimeException e) {
      failed("onProcessEnded", e);
    }
  }

  @Override
  public void onTokensDebited(String endpoint, long tokens) {
    try {
      delegate.onTokensDebited(endpoint, tokens);
    } catch (RuntimeException e) {
      failed("onTokensDebited", e);
    }
  }

  @Override
  public void onTokensRefunded(String endpoint, long tokens) {
    try {
      delegate.onTokensRefunded(endpoint, tokens);
    } catch (RuntimeException e) {
      failed("onTokensRefunded", e);
    }
  }

  @Override
  public void onConcurrencyRejected(String endpoint) {
    try {
      delegate.onConcurrencyRejected(endpoint);
    } catch (RuntimeException e) {
      failed("onConcurrencyRejected", e);
    }
  }

  @Override
  public void onStoreFallback(String mode) {
    try {
      delegate.onStoreFallback(mode);
    } catch (RuntimeException e) {
      failed("onStoreFallback", e);
    }
  }

  @Override
  public void onBreakerStateChanged(String state) {
    try {
      delegate.onBreakerStateChanged(state);
    } catch (RuntimeException e) {
      failed("onBreakerStateChanged", e);
    }
  }

  @Override
  public void onStoreLatency(String operation, long durationNanos) {
    try {
      delegate.onStoreLatency(operation, durationNanos);
    } catch (RuntimeException e) {
      failed("onStoreLatency", e);
    }
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
