package dev.leaderpod.spread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.RevocationReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Spreading with candidates that are not ready (docs/design.md, "Leadership follows readiness"): a candidate whose
 * metadata says {@code ready=false} stands in no election, so the others never hand it one nor count it as a taker,
 * and one that stops being ready hands its elections over spread, as when it stops. Real threads, short timings, as
 * in {@link ElectionSpreaderTest}.
 */
class ElectionSpreaderReadinessTest {

    private static final int ELECTIONS = 12;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final InMemoryLeaseStore leases = new InMemoryLeaseStore();
    private final TestPresenceStore presence = new TestPresenceStore();
    private final Map<String, String> leaders = new ConcurrentHashMap<>();
    private final Set<String> everLed = ConcurrentHashMap.newKeySet();
    private final List<String> overlaps = new CopyOnWriteArrayList<>();
    private final List<Candidate> candidates = new ArrayList<>();

    @AfterEach
    void stopAllAndCheckOverlaps() {
        candidates.forEach(Candidate::stop);
        assertThat(overlaps).as("two leaders of one election").isEmpty();
    }

    /**
     * A fourth candidate that is not ready changes nothing: the shares stay 4/4/4 (counted as a taker, it would be
     * handed three elections it cannot take), and when a candidate stops, its releases name the ready ones only.
     */
    @Test
    void aCandidateThatIsNotReadyIsNeitherGivenAShareNorChosenAsSuccessor() {
        Candidate a = start("a", true);
        Candidate b = start("b", true);
        Candidate c = start("c", true);
        Candidate d = start("d", false);
        await().atMost(WAIT).until(() -> shares(a, b, c, d).equals(List.of(4, 4, 4, 0)));
        await().during(Duration.ofSeconds(3))
                .atMost(WAIT)
                .until(() -> shares(a, b, c, d).equals(List.of(4, 4, 4, 0)));
        assertThat(a.spreader.shares()).as("a's count leaves d out").containsOnlyKeys("a", "b", "c");
        assertThat(presence.announced()).contains("d");
        long movesBefore = moves(a, b);

        c.stop();

        await().atMost(WAIT).until(() -> shares(a, b, d).equals(List.of(6, 6, 0)));
        assertThat(moves(a, b) - movesBefore)
                .as("c's releases named a and b in turn")
                .isZero();
        assertThat(everLed).doesNotContain("d");
    }

    /**
     * A candidate that stops being ready hands its elections over at once, naming the ready candidates in turn (no
     * move is needed after), and takes its share again once it is ready.
     */
    @Test
    void aCandidateThatStopsBeingReadyHandsItsElectionsOverSpreadAndTakesItsShareAgainWhenReady() {
        Candidate a = start("a", true);
        Candidate b = start("b", true);
        Candidate c = start("c", true);
        await().atMost(WAIT).until(() -> shares(a, b, c).equals(List.of(4, 4, 4)));
        long movesBefore = moves(a, b);

        c.ready(false);

        await().atMost(WAIT).until(() -> shares(a, b, c).equals(List.of(6, 6, 0)));
        await().during(Duration.ofSeconds(2))
                .atMost(WAIT)
                .until(() -> shares(a, b, c).equals(List.of(6, 6, 0)));
        assertThat(moves(a, b) - movesBefore)
                .as("c's hand-overs named a and b in turn")
                .isZero();

        c.ready(true);

        await().atMost(WAIT).until(() -> shares(a, b, c).equals(List.of(4, 4, 4)));
    }

    private Candidate start(String id, boolean ready) {
        Candidate candidate = new Candidate(id, ready);
        candidates.add(candidate);
        candidate.start();
        return candidate;
    }

    private static List<Integer> shares(Candidate... candidates) {
        List<Integer> shares = new ArrayList<>();
        for (Candidate candidate : candidates) {
            shares.add((int)
                    candidate.electors.stream().filter(LeaseElector::isLeader).count());
        }
        return shares;
    }

    private static long moves(Candidate... candidates) {
        long moves = 0;
        for (Candidate candidate : candidates) {
            moves += candidate.spreader.moves();
        }
        return moves;
    }

    private final class Candidate {
        final String id;
        final ElectionRuntime runtime;
        final List<LeaseElector> electors = new ArrayList<>();
        final ElectionSpreader spreader;
        volatile boolean ready;
        boolean stopped;

        Candidate(String id, boolean ready) {
            this.id = id;
            this.ready = ready;
            this.runtime = ElectionRuntime.create(id);
            this.spreader = new ElectionSpreader(
                    id,
                    presence.viewOf(id),
                    runtime,
                    ElectionClock.system(),
                    Duration.ofSeconds(1),
                    Duration.ofMillis(200),
                    () -> (Collection<LeaseElector>) electors,
                    () -> Map.of("version", "1", ElectionSpreader.READY, String.valueOf(this.ready)));
            Candidacy spreading = spreader.candidacy();
            Candidacy candidacy = new Candidacy() {
                @Override
                public boolean standing() {
                    return Candidate.this.ready;
                }

                @Override
                public Duration patience() {
                    return spreading.patience();
                }

                @Override
                public String successor(String leaseName) {
                    return spreading.successor(leaseName);
                }
            };
            for (int i = 0; i < ELECTIONS; i++) {
                String lease = "job-" + i;
                electors.add(LeaseElector.builder(
                                new ElectionSettings(
                                        lease,
                                        id,
                                        Duration.ofSeconds(2),
                                        Duration.ofSeconds(1),
                                        Duration.ofMillis(200),
                                        null),
                                leases)
                        .runtime(runtime)
                        .candidacy(candidacy)
                        .listener(new OverlapCheck(lease, id))
                        .build());
            }
        }

        void start() {
            electors.forEach(LeaseElector::start);
            spreader.start();
        }

        /** As the starter does when the application's readiness changes: tell the others, then the electors. */
        void ready(boolean ready) {
            this.ready = ready;
            spreader.metadataChanged();
            electors.forEach(LeaseElector::standingChanged);
        }

        void stop() {
            if (stopped) {
                return;
            }
            stopped = true;
            spreader.leave();
            electors.forEach(elector -> elector.stop(Duration.ofSeconds(2)));
            runtime.close();
        }
    }

    private final class OverlapCheck implements LeadershipListener {
        private final String lease;
        private final String id;

        OverlapCheck(String lease, String id) {
            this.lease = lease;
            this.id = id;
        }

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            everLed.add(id);
            String previous = leaders.putIfAbsent(lease, id);
            if (previous != null) {
                overlaps.add(lease + ": " + id + " while " + previous);
            }
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            leaders.remove(lease, id);
        }
    }
}
