package dev.leaderpod.spread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ForwardingLeaseStore;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
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
 * Candidates with twelve elections each on one shared store, on real threads with short timings: they spread the
 * elections fairly, a joining candidate takes only the surplus, a stopping one hands its elections over spread, and a
 * crashed one's elections end up spread over the survivors — with never two leaders of one election (docs/design.md,
 * "Spreading elections"). A candidate that is not ready ({@code ready=false} in its metadata) stands in no election:
 * the others never hand it one nor count it as a taker ("Leadership follows readiness").
 */
class ElectionSpreaderTest {

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

    @Test
    void startingCandidatesSpreadTheElectionsAndAJoiningOneTakesOnlyTheSurplus() {
        Candidate a = start("a");
        Candidate b = start("b");
        Candidate c = start("c");
        await().atMost(WAIT).until(() -> shares(a, b, c).equals(List.of(4, 4, 4)));
        long movesBefore = moves(a, b, c);

        Candidate d = start("d");

        await().atMost(WAIT).until(() -> shares(a, b, c, d).equals(List.of(3, 3, 3, 3)));
        assertThat(moves(a, b, c) - movesBefore).as("moves when d joined").isEqualTo(3);
        assertThat(d.spreader.moves()).isZero();
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(a.spreader.shares())
                        .as("a's count of the shares")
                        .isEqualTo(Map.of("a", 3, "b", 3, "c", 3, "d", 3)));
    }

    @Test
    void aStoppingCandidateHandsItsElectionsOverSpread() {
        Candidate a = start("a");
        Candidate b = start("b");
        Candidate c = start("c");
        await().atMost(WAIT).until(() -> shares(a, b, c).equals(List.of(4, 4, 4)));
        long movesBefore = moves(a, b);

        c.stop();

        await().atMost(WAIT).until(() -> shares(a, b).equals(List.of(6, 6)));
        assertThat(moves(a, b) - movesBefore)
                .as("the releases named successors in turn: no move needed after")
                .isZero();
        assertThat(presence.announced()).doesNotContain("c");
    }

    @Test
    void aCrashedCandidatesElectionsEndUpSpreadOverTheSurvivors() {
        Candidate a = start("a");
        Candidate b = start("b");
        Candidate c = start("c");
        await().atMost(WAIT).until(() -> shares(a, b, c).equals(List.of(4, 4, 4)));

        c.crash();

        await().atMost(WAIT).until(() -> shares(a, b).equals(List.of(6, 6)));
        assertThat(leaders).doesNotContainValue("c");
    }

    /**
     * Candidates of different elections do not balance against each other: each counts only the elections it sees, so
     * they would hand the same elections back and forth (they did, every few hundred milliseconds, before shares were
     * counted among candidates of the same elections only). A stopping candidate still hands its elections to them.
     */
    @Test
    void candidatesOfDifferentElectionsDoNotHandElectionsBackAndForth() {
        Candidate a = start("a");
        await().atMost(WAIT).until(() -> shares(a).equals(List.of(12)));

        Candidate b = start("b", 6); // stays out of job-6 … job-11
        await().atMost(WAIT).until(() -> b.spreader.candidates().containsKey("a"));
        await().during(Duration.ofSeconds(2))
                .atMost(WAIT)
                .until(() -> shares(a, b).equals(List.of(12, 0)));
        assertThat(moves(a, b)).isZero();

        a.stop();
        await().atMost(WAIT).until(() -> shares(b).equals(List.of(6)));
    }

    /**
     * A fourth candidate that is not ready changes nothing: the shares stay 4/4/4 (counted as a taker, it would be
     * handed three elections it cannot take), and when a candidate stops, its releases name the ready ones only.
     */
    @Test
    void aCandidateThatIsNotReadyIsNeitherGivenAShareNorChosenAsSuccessor() {
        Candidate a = start("a");
        Candidate b = start("b");
        Candidate c = start("c");
        Candidate d = start("d", ELECTIONS, false);
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
        Candidate a = start("a");
        Candidate b = start("b");
        Candidate c = start("c");
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

    private Candidate start(String id) {
        return start(id, ELECTIONS);
    }

    private Candidate start(String id, int elections) {
        return start(id, elections, true);
    }

    /** A candidate of the first {@code elections} elections only, ready or not (docs/design.md, "Leadership follows readiness"). */
    private Candidate start(String id, int elections, boolean ready) {
        Candidate candidate = new Candidate(id, elections, ready);
        candidates.add(candidate);
        candidate.start();
        return candidate;
    }

    /** How many elections each candidate leads, in the order given. */
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
        final CuttableStore store;
        final List<LeaseElector> electors = new ArrayList<>();
        final ElectionSpreader spreader;
        volatile boolean ready;
        boolean stopped;

        Candidate(String id, int elections, boolean ready) {
            this.id = id;
            this.ready = ready;
            this.runtime = ElectionRuntime.create(id);
            this.store = new CuttableStore(leases);
            this.spreader = new ElectionSpreader(
                    id,
                    presence.viewOf(id),
                    runtime,
                    ElectionClock.system(),
                    Duration.ofSeconds(1),
                    Duration.ofMillis(200),
                    () -> (Collection<LeaseElector>) electors,
                    () -> Map.of("version", "1", ElectionSpreader.READY, String.valueOf(this.ready)));
            // standing while ready, as the starter's readiness makes it
            Candidacy candidacy = spreader.candidacy().standingOnlyWhile(() -> this.ready);
            for (int i = 0; i < elections; i++) {
                String lease = "job-" + i;
                electors.add(LeaseElector.builder(
                                new ElectionSettings(
                                        lease,
                                        id,
                                        Duration.ofSeconds(2),
                                        Duration.ofSeconds(1),
                                        Duration.ofMillis(200),
                                        null),
                                store)
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

        /** Cut off from the store: as the others see it, a crash; its terms end at their deadlines. */
        void crash() {
            store.cutOff = true;
            presence.cutOff(id);
        }
    }

    /** Records the leader of each election; a grant while another candidate leads it is an overlap. */
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

    /** A candidate's way to the shared lease store, which a crash cuts. */
    private static final class CuttableStore extends ForwardingLeaseStore {
        volatile boolean cutOff;

        CuttableStore(LeaseStore delegate) {
            super(delegate);
        }

        @Override
        protected void beforeCall(String name) {
            if (cutOff) {
                throw new LeaseStoreException(LeaseStoreException.Kind.UNAVAILABLE, "cut off");
            }
        }
    }
}
