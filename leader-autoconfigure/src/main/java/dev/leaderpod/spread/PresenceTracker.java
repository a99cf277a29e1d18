package dev.leaderpod.spread;

import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who else is alive (docs/design.md, "Presence"). This candidate announces itself every interval (two writes a minute
 * at the default 30 s) and watches the others' announcements, listing them only after the watch (re)starts or where
 * the store cannot watch. A candidate counts as alive while its announcement changed within three intervals by this
 * candidate's clock — never by a timestamp in it; one that stopped changing for that long is removed, by whoever sees
 * it first, at the version it was seen at (a candidate that announces meanwhile is left alone).
 */
final class PresenceTracker {

    private static final Logger log = LoggerFactory.getLogger(PresenceTracker.class);

    /** An announcement and when this candidate saw it change. */
    record Seen(Presence presence, long changedAtNanos) {}

    private final PresenceStore store;
    private final ElectionRuntime runtime;
    private final ElectionClock clock;
    private final Duration interval;
    private final long timeToLiveNanos;
    private final Supplier<Presence> self;
    private final Runnable onChange;
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    /** Held by an announce and by the removal when leaving, so that no announce lands after that removal. */
    private final Object announcing = new Object();

    private volatile boolean running;
    private volatile ScheduledFuture<?> nextTick;
    private volatile LeaseWatch watch;
    private volatile Presence announced;
    private volatile boolean failing;

    /**
     * @param self this candidate's announcement as it should be now (its elections may grow)
     * @param onChange called, on any thread, when a candidate appears, disappears or announces other elections
     */
    PresenceTracker(
            PresenceStore store,
            ElectionRuntime runtime,
            ElectionClock clock,
            Duration interval,
            Supplier<Presence> self,
            Runnable onChange) {
        this.store = store;
        this.runtime = runtime;
        this.clock = clock;
        this.interval = interval;
        this.timeToLiveNanos = interval.toNanos() * 3;
        this.self = self;
        this.onChange = onChange;
    }

    /** Announces this candidate and starts following the others. Returns at once. */
    void start() {
        running = true;
        io(() -> {
            announce();
            startWatch();
            list();
        });
        schedule();
    }

    /**
     * Stops announcing and removes this candidate's announcement, so that the others stop counting it at once (a
     * candidate that leaves does so before it releases its leases, so nobody hands it one meanwhile). Blocks for at
     * most one store call.
     */
    void leave() {
        running = false;
        ScheduledFuture<?> tick = nextTick;
        if (tick != null) {
            tick.cancel(false);
        }
        LeaseWatch current = watch;
        watch = null;
        if (current != null) {
            current.close();
        }
        synchronized (announcing) { // after an announce in flight has landed: it cannot bring this candidate back
            Presence mine = announced;
            if (mine != null && mine.version() != null) {
                try {
                    store.remove(mine.identity(), mine.version());
                } catch (RuntimeException e) {
                    log.debug("Could not remove the presence of {}: {}", mine.identity(), e.toString());
                }
            }
        }
    }

    /** Announces this candidate again now, off the caller's thread: what it says about itself changed. */
    void announceSoon() {
        if (running) {
            io(this::announce);
        }
    }

    /** The live candidates by identity, this one always included. */
    Map<String, Presence> alive() {
        long now = clock.nanoTime();
        Map<String, Presence> alive = new TreeMap<>();
        seen.forEach((identity, entry) -> {
            if (now - entry.changedAtNanos() < timeToLiveNanos) {
                alive.put(identity, entry.presence());
            }
        });
        Presence mine = self.get();
        alive.put(mine.identity(), mine);
        return alive;
    }

    /** When the announcement of {@code identity} was last seen to change, if it was seen at all. */
    Optional<Long> changedAtNanos(String identity) {
        return Optional.ofNullable(seen.get(identity)).map(Seen::changedAtNanos);
    }

    private void schedule() {
        if (running) {
            nextTick = runtime.schedule(
                    () -> {
                        if (!io(this::tick)) {
                            schedule(); // every I/O thread is hung on a store: try again at the next tick
                        }
                    },
                    interval);
        }
    }

    private void tick() {
        try {
            announce();
            if (watch == null) {
                startWatch();
                list();
            }
            collectGarbage();
        } finally {
            schedule();
        }
    }

    private void announce() {
        synchronized (announcing) {
            announceNow();
        }
    }

    private void announceNow() {
        if (!running) {
            return;
        }
        try {
            Presence stored = store.announce(self.get());
            announced = stored;
            if (!running) { // left while this announce was on its way: take it back
                store.remove(stored.identity(), stored.version());
                return;
            }
            see(stored);
            if (failing) {
                failing = false;
                log.info("Presence of {} announced again in {}", stored.identity(), store.describe());
            }
        } catch (RuntimeException e) {
            if (!failing) {
                failing = true;
                log.warn(
                        "Could not announce the presence of {} in {}; elections are not spread until it can: {}",
                        self.get().identity(),
                        store.describe(),
                        e.getMessage());
            }
        }
    }

    private void list() {
        if (!running) {
            return;
        }
        try {
            for (Presence presence : store.list()) {
                see(presence);
            }
        } catch (RuntimeException e) {
            log.debug("Could not list presence in {}: {}", store.describe(), e.toString());
        }
    }

    private void startWatch() {
        if (!running) {
            return;
        }
        AtomicBoolean ended = new AtomicBoolean();
        try {
            watch = store.watch(new PresenceStore.PresenceWatcher() {
                        @Override
                        public void changed(Presence presence) {
                            see(presence);
                        }

                        @Override
                        public void removed(String identity) {
                            if (seen.remove(identity) != null) {
                                onChange.run();
                            }
                        }

                        @Override
                        public void onClose(Exception cause) {
                            ended.set(true);
                            watch = null; // the next tick starts another one and lists
                        }
                    })
                    .orElse(null);
            if (ended.get()) {
                watch = null; // it ended before it was returned (it could not start): start another at the next tick
            }
        } catch (RuntimeException e) {
            watch = null;
        }
    }

    private void see(Presence presence) {
        long now = clock.nanoTime();
        Seen before = seen.get(presence.identity());
        boolean changed = before == null || !Objects.equals(before.presence().version(), presence.version());
        if (changed) {
            seen.put(presence.identity(), new Seen(presence, now));
        }
        boolean news = before == null
                || now - before.changedAtNanos() >= timeToLiveNanos
                || !before.presence().elections().equals(presence.elections());
        if (news) {
            onChange.run();
        }
    }

    private void collectGarbage() {
        long now = clock.nanoTime();
        String me = self.get().identity();
        seen.forEach((identity, entry) -> {
            if (!identity.equals(me) && now - entry.changedAtNanos() >= timeToLiveNanos) {
                try {
                    store.remove(identity, entry.presence().version());
                    seen.remove(identity, entry);
                    log.info(
                            "Removed the presence of {}: it did not change for {}",
                            identity,
                            Duration.ofNanos(timeToLiveNanos));
                } catch (LeaseConflictException e) {
                    // it announced meanwhile: alive after all; the watch or the next list brings the new version
                } catch (RuntimeException e) {
                    log.debug("Could not remove the presence of {}: {}", identity, e.toString());
                }
            }
        });
    }

    /** Runs {@code call} on an I/O thread; false if every one is hung. */
    private boolean io(Runnable call) {
        try {
            runtime.runBlocking(() -> {
                try {
                    call.run();
                } catch (RuntimeException e) {
                    log.warn("Presence work failed", e);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }
}
