package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The watches of a {@link KubernetesLeaseStore} that knows its application's election group: one WebSocket, watching
 * the Leases labelled {@value LeaseObjects#ELECTION_LABEL} with the group, for all of them, whatever the number of
 * elections (docs/design.md, "Watch to be fast, poll to be right"). Each event goes to the watchers of the Lease it
 * names, after the store kept the object ({@link NewestLeases}); events of Leases nobody here watches are dropped.
 *
 * <ul>
 *   <li><b>Start.</b> The first watch opens the WebSocket, within the request timeout as any watch start; a watch
 *       started while it opens or once it is open joins it at once. If the open fails, every watch on it is told, the
 *       first before its start returns.
 *   <li><b>End.</b> When the WebSocket closes or fails (an {@code ERROR} event, such as 410 Gone or a refusal, a
 *       broken connection, a normal end), every watch on it is told through {@link LeaseWatcher#onClose}: each elector
 *       restarts its own with back-off, and the first restart opens one WebSocket, which the others join.
 *   <li><b>No storm.</b> After an open failed, watches started within {@link #START_SPACING} of it are told of that
 *       failure at once, without a request: the electors' restarts that follow a failure come together, and a server
 *       that refuses or resets connections at once would otherwise get one attempt per election.
 *   <li><b>A silent WebSocket.</b> An elector that finds a change its watch did not deliver says so
 *       ({@link LeaseWatch#missedChanges}) before it starts another. If the Lease carries the group's label, the
 *       WebSocket should have delivered it: it is taken for silent, and the next watch started ends it (every watch on
 *       it is told) and opens a new one. A Lease without the label (written by a version before the label, or by hand)
 *       explains the miss: the WebSocket is kept.
 *   <li><b>Close.</b> {@link LeaseWatch#close()} ends one watch; the WebSocket closes with the last.
 * </ul>
 *
 * <p>Callbacks run on the client's event loop, as every {@link WatchSocket}'s; nothing here blocks or starts a thread.
 */
final class SharedLeaseWatch {

    /** How long after a failed open a watch start fails at once with that failure instead of trying again. */
    static final Duration START_SPACING = Duration.ofSeconds(1);

    private final KubernetesLeaseStore store;
    private final LeaseApi api;
    private final KubernetesSerialization serialization;
    private final KubernetesFailures failures;
    private final String labelValue;
    private final String selector;
    private final String subject;
    private final long startSpacingNanos;

    private final Object lock = new Object();
    /** The WebSocket being opened or open; null when there is none. */
    private Socket socket;

    private LeaseStoreException lastStartFailure;
    private long lastStartFailedAtNanos;
    private boolean closed;

    SharedLeaseWatch(
            KubernetesLeaseStore store,
            LeaseApi api,
            KubernetesSerialization serialization,
            KubernetesFailures failures,
            String namespace,
            String group,
            Duration startSpacing) {
        this.store = store;
        this.api = api;
        this.serialization = serialization;
        this.failures = failures;
        this.labelValue = LeaseObjects.electionLabelValue(group);
        this.selector = LeaseObjects.electionSelector(group);
        this.subject = "Kubernetes Leases " + namespace + " labelled " + selector;
        this.startSpacingNanos = startSpacing.toNanos();
    }

    /** What the WebSocket watches, as failures name it. */
    String describe() {
        return subject;
    }

    /**
     * Watches {@code name} on the WebSocket, opening it if there is none (bounded by the request timeout). A failure to
     * open is reported through {@code watcher} before this returns.
     */
    LeaseWatch watch(String name, LeaseWatcher watcher) {
        Socket silent = null;
        Socket opening = null;
        LeaseStoreException refused = null;
        Registration registration;
        synchronized (lock) {
            if (socket != null && socket.silent) {
                silent = socket;
                socket = null;
            }
            if (socket == null || socket.ended()) {
                socket = null;
                if (closed) {
                    refused = failures.failed(subject, "watch", new IllegalStateException("the store is closed"));
                } else if (lastStartFailure != null && System.nanoTime() - lastStartFailedAtNanos < startSpacingNanos) {
                    refused = new LeaseStoreException(
                            lastStartFailure.kind(),
                            lastStartFailure.getMessage() + " (less than " + startSpacingNanos / 1_000_000
                                    + " ms ago: not tried again yet)",
                            lastStartFailure);
                } else {
                    socket = new Socket();
                    opening = socket;
                }
            }
            registration = new Registration(name, watcher, refused == null ? socket : null);
            if (refused == null) {
                socket.add(registration);
            }
        }
        if (silent != null) {
            silent.fail(new LeaseStoreException(
                    Kind.UNAVAILABLE,
                    subject + ": the watch did not deliver a change of a Lease it selects; it is opened again"));
        }
        if (refused != null) {
            registration.closedBy(refused);
            return registration;
        }
        if (opening != null) {
            open(opening);
        }
        return registration;
    }

    private void open(Socket opening) {
        try {
            api.watchSelected(selector, opening, subject);
            synchronized (lock) {
                lastStartFailure = null;
            }
        } catch (LeaseStoreException e) {
            synchronized (lock) {
                lastStartFailure = e;
                lastStartFailedAtNanos = System.nanoTime();
            }
            opening.fail(e);
        }
    }

    /** Ends the WebSocket, telling no watcher; watches started later fail. */
    void close() {
        Socket closing;
        synchronized (lock) {
            closed = true;
            closing = socket;
            socket = null;
        }
        if (closing != null) {
            closing.close();
        }
    }

    // An elector found a change of {@code name} that {@code on} did not deliver.
    private void missed(Socket on, String name) {
        GenericKubernetesResource known = store.newest(name);
        if (known != null && LeaseObjects.isLabelledElection(known, labelValue)) {
            on.silent = true; // the next watch started opens another
        }
    }

    /** The WebSocket, and the watches on it by Lease name. */
    private final class Socket extends WatchSocket {

        /** Guarded by {@link SharedLeaseWatch#lock}. */
        private final Map<String, List<Registration>> byName = new HashMap<>();

        /** Whether an elector found a labelled Lease's change it did not deliver. */
        private volatile boolean silent;

        Socket() {
            super(serialization);
        }

        // Under the lock.
        void add(Registration registration) {
            byName.computeIfAbsent(registration.name, key -> new ArrayList<>(1)).add(registration);
        }

        void remove(Registration registration) {
            boolean last;
            synchronized (lock) {
                List<Registration> ofName = byName.get(registration.name);
                if (ofName == null || !ofName.remove(registration)) {
                    return;
                }
                if (ofName.isEmpty()) {
                    byName.remove(registration.name);
                }
                last = byName.isEmpty();
                if (last && socket == this) {
                    socket = null;
                }
            }
            if (last) {
                close(); // the last watch ended: nobody needs the WebSocket
            }
        }

        @Override
        String subject() {
            return subject;
        }

        @Override
        void event(String type, GenericKubernetesResource lease) {
            String name =
                    lease.getMetadata() == null ? null : lease.getMetadata().getName();
            List<Registration> watching;
            synchronized (lock) {
                List<Registration> ofName = name == null ? null : byName.get(name);
                watching = ofName == null ? List.of() : List.copyOf(ofName);
            }
            if (watching.isEmpty()) {
                return; // a Lease of the group that nobody here watches
            }
            Optional<VersionedLease> change;
            try {
                if ("DELETED".equals(type)) {
                    store.watchedDeletion(name, lease);
                    change = Optional.empty();
                } else {
                    change = Optional.of(store.watchedChange(name, lease));
                }
            } catch (LeaseStoreException e) { // a Lease this store cannot read: its watchers are told, nobody else
                watching.forEach(registration -> registration.fail(e));
                return;
            }
            watching.forEach(registration -> registration.deliver(change));
        }

        @Override
        LeaseStoreException reported(Status status) {
            return failures.reported(subject, "watch", status);
        }

        @Override
        LeaseStoreException failed(Throwable failure) {
            return failures.failed(subject, "watch", failure);
        }

        @Override
        void ended(LeaseStoreException cause) {
            List<Registration> all = new ArrayList<>();
            synchronized (lock) {
                if (socket == this) {
                    socket = null;
                }
                byName.values().forEach(all::addAll);
                byName.clear();
            }
            if (cause != null) {
                all.forEach(registration -> registration.closedBy(cause));
            }
        }
    }

    /** One watch of one Lease on the WebSocket. */
    private final class Registration implements LeaseWatch {

        private final String name;
        private final LeaseWatcher watcher;
        private final Socket on; // null: refused at its start
        private final AtomicBoolean done = new AtomicBoolean();

        Registration(String name, LeaseWatcher watcher, Socket on) {
            this.name = name;
            this.watcher = watcher;
            this.on = on;
        }

        void deliver(Optional<VersionedLease> change) {
            if (done.get()) {
                return;
            }
            try {
                watcher.onChange(change);
            } catch (RuntimeException e) { // one watcher's trouble never ends the others' watches
                fail(new LeaseStoreException(
                        Kind.OTHER, store.describe(name) + ": its watcher failed (" + e.getMessage() + ")", e));
            }
        }

        // Ends this watch alone, telling its watcher.
        void fail(LeaseStoreException cause) {
            if (on != null) {
                on.remove(this);
            }
            closedBy(cause);
        }

        // Ended with the WebSocket (or before it): tells the watcher, once, unless it was closed.
        void closedBy(LeaseStoreException cause) {
            if (done.compareAndSet(false, true)) {
                try {
                    watcher.onClose(cause);
                } catch (RuntimeException e) {
                    // the watcher's own trouble; the watch is over all the same
                }
            }
        }

        @Override
        public void missedChanges() {
            if (on != null && !done.get()) {
                missed(on, name);
            }
        }

        @Override
        public void close() {
            if (done.compareAndSet(false, true) && on != null) {
                on.remove(this);
            }
        }
    }
}
