package dev.leaderpod.sample;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.core.Leadership;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Profile;
import org.springframework.stereotype.Component;

/**
 * A leader-only background component with a lifecycle, as a message listener container or a poller would be:
 * {@code @LeaderOnly} on a {@link SmartLifecycle} bean starts it when this instance is granted leadership and stops
 * it when leadership is revoked, instead of with the context. While running it beats once per
 * {@code sample.worker.interval}.
 *
 * <p>Each beat checks {@link Leadership#isLeader()} as well, so the worker stays quiet on a follower wherever the
 * annotation's lifecycle gating is not in place. Its only public methods are the lifecycle's.
 */
@Component
@Profile("!sidecar")
@LeaderOnly
public class HeartbeatWorker implements SmartLifecycle {

    private final Leadership leadership;
    private final Activity activity;
    private final Duration interval;
    private ScheduledExecutorService executor; // guarded by this

    HeartbeatWorker(
            Leadership leadership, Activity activity, @Value("${sample.worker.interval:1s}") Duration interval) {
        this.leadership = leadership;
        this.activity = activity;
        this.interval = interval;
    }

    @Override
    public synchronized void start() {
        if (executor != null) {
            return;
        }
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "heartbeat-worker");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(this::beat, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        activity.workerRunning(true);
    }

    @Override
    public synchronized void stop() {
        if (executor == null) {
            return;
        }
        executor.shutdownNow();
        executor = null;
        activity.workerRunning(false);
    }

    @Override
    public synchronized boolean isRunning() {
        return executor != null;
    }

    private void beat() {
        if (leadership.isLeader()) {
            activity.heartbeat();
        }
    }
}
