package dev.leaderpod.sample.jobs;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.sample.status.Activity;
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
 * {@code @LeaderOnly} on a {@link SmartLifecycle} bean keeps it from starting with the application context, starts it
 * when this instance is granted leadership and stops it when leadership ends, every term. While running it beats once
 * per {@code sample.worker.interval}.
 *
 * <p>{@link #start()} runs under the new term, so it reads the term's fencing token from {@link LeaderOnlyContext}
 * (the status page's timeline shows it). Threads it starts do not inherit that context: pass them the token if their
 * work needs it.
 */
@Component
@Profile("!sidecar")
@LeaderOnly
public class HeartbeatWorker implements SmartLifecycle {

    private final Activity activity;
    private final Duration interval;
    private ScheduledExecutorService executor; // guarded by this

    HeartbeatWorker(Activity activity, @Value("${sample.worker.interval:1s}") Duration interval) {
        this.activity = activity;
        this.interval = interval;
    }

    @Override
    public synchronized void start() {
        if (executor != null) {
            return;
        }
        long token = LeaderOnlyContext.fencingToken();
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "heartbeat-worker");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(
                activity::heartbeat, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        activity.workerStarted(token);
    }

    @Override
    public synchronized void stop() {
        if (executor == null) {
            return;
        }
        executor.shutdownNow();
        executor = null;
        activity.workerStopped();
    }

    @Override
    public synchronized boolean isRunning() {
        return executor != null;
    }
}
