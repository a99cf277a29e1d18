package dev.leaderpod.test;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.events.LeaderContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Import;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;

/**
 * An application as the kit's users have one: {@code @LeaderOnly} methods of the default election and of
 * {@code reports}, a {@code @LeaderOnly} lifecycle bean of each, a {@link LeadershipListener} and an
 * {@code @EventListener} for the leadership events, all writing what they do into one {@link Journal}. Nothing is
 * scheduled: the tests call the methods.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({
    KitTestApplication.Journal.class,
    KitTestApplication.Jobs.class,
    KitTestApplication.Worker.class,
    KitTestApplication.ReportsWorker.class,
    KitTestApplication.Listener.class,
    KitTestApplication.Events.class
})
class KitTestApplication {

    /** What happened, in order, and the threads the events were published on. */
    static class Journal {
        private final List<String> entries = new ArrayList<>();
        private final List<String> eventThreads = new ArrayList<>();

        synchronized void add(String entry) {
            entries.add(entry);
        }

        synchronized List<String> entries() {
            return List.copyOf(entries);
        }

        synchronized void event(String entry) {
            entries.add(entry);
            eventThreads.add(Thread.currentThread().getName());
        }

        synchronized List<String> eventThreads() {
            return List.copyOf(eventThreads);
        }

        synchronized void clear() {
            entries.clear();
            eventThreads.clear();
        }
    }

    /** Leader-only calls; each returns the fencing token it ran with (null: skipped, as a follower's). */
    static class Jobs {
        private final Journal journal;
        private final ObjectProvider<LeaderElections> elections;

        Jobs(Journal journal, ObjectProvider<LeaderElections> elections) {
            this.journal = journal;
            this.elections = elections;
        }

        @LeaderOnly
        public Long run() {
            journal.add("run " + LeaderOnlyContext.fencingToken());
            return LeaderOnlyContext.fencingToken();
        }

        @LeaderOnly("reports")
        public Long report() {
            journal.add("report " + LeaderOnlyContext.fencingToken());
            return LeaderOnlyContext.fencingToken();
        }

        /**
         * Says it entered, waits for {@code proceed}, then records whether the term it started under is still current.
         */
        @LeaderOnly
        public Long runUntil(CountDownLatch entered, CountDownLatch proceed, AtomicBoolean currentAtTheEnd)
                throws InterruptedException {
            LeadershipTerm term = LeaderOnlyContext.currentTerm().orElseThrow();
            entered.countDown();
            if (!proceed.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never told to proceed");
            }
            currentAtTheEnd.set(elections
                    .getObject()
                    .electors()
                    .get(LeaderElections.DEFAULT)
                    .isCurrent(term));
            journal.add("blocked call returns");
            return term.fencingToken();
        }
    }

    /** A leader-only lifecycle bean of the default election. */
    @LeaderOnly
    static class Worker implements SmartLifecycle {
        private final Journal journal;
        private volatile boolean running;

        Worker(Journal journal) {
            this.journal = journal;
        }

        @Override
        public void start() {
            running = true;
            journal.add("worker started " + LeaderOnlyContext.fencingToken());
        }

        @Override
        public void stop() {
            running = false;
            journal.add("worker stopped");
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    /** A leader-only lifecycle bean of the election {@code reports}. */
    @LeaderOnly("reports")
    static class ReportsWorker implements SmartLifecycle {
        private final Journal journal;
        private volatile boolean running;

        ReportsWorker(Journal journal) {
            this.journal = journal;
        }

        @Override
        public void start() {
            running = true;
            journal.add("reports worker started " + LeaderOnlyContext.fencingToken());
        }

        @Override
        public void stop() {
            running = false;
            journal.add("reports worker stopped");
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    /** A listener of the default election. */
    static class Listener implements LeadershipListener {
        private final Journal journal;

        Listener(Journal journal) {
            this.journal = journal;
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            journal.add("listener started " + term.fencingToken());
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            journal.add("listener stopped " + term.fencingToken() + " " + reason);
        }
    }

    /** Spring Integration's events, as an application listens to them. */
    static class Events {
        private final Journal journal;

        Events(Journal journal) {
            this.journal = journal;
        }

        @EventListener
        void on(AbstractLeaderEvent event) {
            String kind = event instanceof OnGrantedEvent ? "granted" : "revoked";
            journal.event(kind + " " + event.getRole() + " "
                    + LeaderContext.from(event).orElseThrow().getFencingToken());
        }
    }
}
