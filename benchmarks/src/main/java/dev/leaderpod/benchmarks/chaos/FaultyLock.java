package dev.leaderpod.benchmarks.chaos;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.time.Duration;
import java.time.ZonedDateTime;

/**
 * Around fabric8's lock: a slot's {@link Faults} (as far as fabric8's {@link Lock} lets them through: errors,
 * conflicts, pauses and {@link Error}s thrown from a call), and the node's clock skew. fabric8 compares the record's
 * {@code renewTime} with its own wall clock, which the harness cannot replace; so the skew is applied to the
 * records instead: records read are shifted back by the skew and records written forward, which is exactly what
 * fabric8 would see and write on a node whose clock is {@code skew} ahead.
 */
final class FaultyLock implements Lock {

    private final Lock delegate;
    private final Faults faults;
    private final DriftingClock clock;
    private volatile boolean dead;

    FaultyLock(Lock delegate, Faults faults, DriftingClock clock) {
        this.delegate = delegate;
        this.faults = faults;
        this.clock = clock;
    }

    /** The process is gone: no call of this lock reaches the API server any more. */
    void kill() {
        dead = true;
    }

    @Override
    public LeaderElectionRecord get(KubernetesClient client) {
        faults.maybePause(false);
        faults.maybeThrow(false);
        maybeServerError();
        LeaderElectionRecord record = delegate.get(client);
        faults.maybePause(true);
        faults.maybeThrow(true);
        return shift(record, clock.skew().negated());
    }

    @Override
    public void create(KubernetesClient client, LeaderElectionRecord record) {
        write(() -> delegate.create(client, shift(record, clock.skew())));
    }

    @Override
    public void update(KubernetesClient client, LeaderElectionRecord record) {
        write(() -> delegate.update(client, shift(record, clock.skew())));
    }

    private void write(Runnable write) {
        faults.maybePause(false);
        faults.maybeThrow(false);
        maybeServerError();
        if (faults.conflict()) {
            throw new KubernetesClientException(
                    new StatusBuilder().withCode(409).withMessage("injected").build());
        }
        write.run();
        faults.maybePause(true);
        faults.maybeThrow(true);
    }

    private void maybeServerError() {
        if (dead) {
            throw new KubernetesClientException(
                    new StatusBuilder().withCode(503).withMessage("crashed").build());
        }
        if (faults.serverError()) {
            throw new KubernetesClientException(
                    new StatusBuilder().withCode(500).withMessage("injected").build());
        }
    }

    private static LeaderElectionRecord shift(LeaderElectionRecord record, Duration by) {
        if (record == null) {
            return null;
        }
        return record.toBuilder()
                .acquireTime(plus(record.getAcquireTime(), by))
                .renewTime(plus(record.getRenewTime(), by))
                .build();
    }

    private static ZonedDateTime plus(ZonedDateTime time, Duration by) {
        return time == null ? null : time.plus(by);
    }

    @Override
    public String identity() {
        return delegate.identity();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }
}
