package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ForwardingLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.core.VersionedLease;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An attacker's view of the migration from spring-cloud-kubernetes' ConfigMap leader (docs/design.md, "Migration from
 * the ConfigMap leader"): interleavings of a new candidate's writes with the old pods' writes and with the
 * migration's own reads, lost answers, refusals, and whole elections ({@link LeaseElector} over the migration's store
 * and candidacy, wired as {@code LeaderElectionAutoConfiguration} wires them) on the fabric8 mock API server. The old
 * pods' writes are made here as their code makes them (spring-cloud-kubernetes 3.3.0 {@code
 * Fabric8LeadershipController}: a compare-and-set of the role's key, keeping every other key, ours included);
 * {@code it.ConfigMapMigrationAttackITTest} runs their real code where its reaction matters.
 *
 * <p>The findings (each failed on the code as first written, each fixed since) and the attacks that held are kept
 * as regression tests.
 */
class ConfigMapMigrationAttackTest extends MigrationGround {

    private static final String HOLDER_KEY = "leaderpod.dev.holder.billing";
    private static final String ME = "new-1-abcde";

    private HookedDispatcher dispatcher;

    ConfigMapMigrationAttackTest() {
        super("migration-attack");
    }

    @Override
    KubernetesMockServer server() {
        dispatcher = new HookedDispatcher();
        KubernetesMockServer server =
                new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init();
        return server;
    }

    @BeforeEach
    void newPod() {
        readyPod("new-1");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Findings: each failed on the code as first written (docs/design.md, "Migration from the ConfigMap leader").

    /**
     * The hold of a created Lease ends with a write that starts the term; the migration treats it as a renew of a term
     * that holds the record (its acquire time is the claimed one), so it writes the Lease first and reads the record
     * only after. That read finds an old pod's entry and stops the candidate standing, but the elector ignores a
     * standing that changes before a term is current ({@code standingChanged()} with no term does nothing) and starts
     * the term from the write's answer anyway: it leads beside the old leader until its next cycle, a retry period
     * later, notices it does not stand.
     */
    @Test
    void theWriteThatEndsTheHoldOfACreatedLeaseStartsNoTermOnceAnOldPodHasTakenTheRecord() {
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz"); // a previous new leader's entry: the Lease decides
        ElectionSettings settings = settings(Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(1200));
        AtomicBoolean oldPodTookOver = new AtomicBoolean();
        LeaseStore hooked = new ForwardingLeaseStore(leases) {
            @Override
            public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                // The write that ends the hold: renewed a lease duration after the create (earlier hold writes are a
                // retry period after it). Just before it, an old pod takes the record (it saw new-1's Pod not Ready).
                if (record.isHeldBy(ME)
                        && !Duration.between(record.acquireTime(), record.renewTime())
                                .minus(settings.leaseDuration().minusMillis(100))
                                .isNegative()
                        && oldPodTookOver.compareAndSet(false, true)) {
                    oldPodWrites("old-1");
                }
                return super.update(name, record, expectedVersion);
            }
        };
        Election election = election(settings, hooked);

        await().atMost(Duration.ofSeconds(15)).untilTrue(oldPodTookOver);
        await("no term while the ConfigMap names old-1, whose pod exists")
                .during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(5))
                .until(() -> election.grantsWhileAnOldLeaderWasNamed.isEmpty() && election.grants.isEmpty());
    }

    /**
     * The claim's own answer is taken as the latest judgement: {@code judged(claimed, null)} runs after the
     * compare-and-set's answer arrives, and overwrites whatever a read made meanwhile. An old pod that takes the record
     * right after the claim landed (it saw this Pod not Ready) is seen by the watch's read, which stops the candidate
     * standing; the late answer of the claim then makes it stand again, and the term starts beside the old leader.
     * Nothing reads the record again for a lease duration unless the leader renews (a retry period).
     */
    @Test
    void aClaimWhoseAnswerArrivesAfterAnOldPodTookTheRecordDoesNotMakeTheCandidateStandAgain() throws Exception {
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz");
        CountDownLatch claimLanded = new CountDownLatch(1);
        Duration answerDelay = Duration.ofSeconds(3);
        dispatcher.after = (request, response) -> {
            if (request.isClaimBy("new-1") && response.code() == 200) {
                response.setBodyDelay(answerDelay); // landed; its answer is on its way
                claimLanded.countDown();
            }
        };
        ConfigMapMigration migration = started("new-1", ME, Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());

        CompletableFuture<VersionedLease> termStart =
                CompletableFuture.supplyAsync(() -> migration.store(leases).create(LEASE, held(ME)));
        assertThat(claimLanded.await(10, TimeUnit.SECONDS)).isTrue();
        oldPodWrites("old-1"); // an old pod takes the record the moment it sees new-1 named while its Pod is not Ready
        await().atMost(answerDelay)
                .until(() -> migration
                        .blocker()
                        .filter(why -> why.contains("names old-1"))
                        .isPresent());
        assumeTrue(!termStart.isDone(), "the watch's read came before the claim's answer (a loaded machine)");

        assertThatThrownBy(() -> termStart.get(15, TimeUnit.SECONDS))
                .as("the write that would start the term answers a lost race")
                .hasCauseInstanceOf(LeaseConflictException.class);

        assertThat(configMap().getData()).containsEntry(KEY, "old-1");
        assertThat(migration.blocker())
                .as("the latest read found old-1 named, and its pod exists")
                .get(as(STRING))
                .contains("names old-1");
        assertThat(migration.candidacy(Candidacy.EAGER).standing()).isFalse();
    }

    /**
     * docs/design.md: "An old leader that stops removes its name first and tells its own code second, so after a
     * removal the new candidates also wait until that pod is gone, at most a retry period." Only a candidate that saw
     * the name before the removal waits: one whose first read (a pod started during the rollout, or reads that
     * coalesced the old pod's acquire and removal) finds the record free takes it at once, while the old leader may
     * still run its revocation.
     */
    @Test
    void aCandidateWhoseFirstReadFindsTheRecordFreeWaitsAsForARemovalItDidNotSee() {
        readyPod("old-1");
        // What old-1's revoke left: the ConfigMap without the role's key (another role's key stays).
        client.configMaps()
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("leaders")
                        .endMetadata()
                        .addToData("leader.id.reports", "old-9")
                        .build())
                .create();

        ConfigMapMigration migration = started("new-1", ME, Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> migration
                        .blocker()
                        .map(why -> !why.contains("has not been read yet"))
                        .orElse(true));

        assertThat(migration.blocker())
                .as("a record found free may have been freed by an old leader a moment ago")
                .isPresent();
        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held(ME)))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(configMap().getData()).doesNotContainKey(KEY);

        now.addAndGet(RETRY.toNanos()); // the grace has passed on the migration's clock
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
    }

    /**
     * The old pods follow the pod the record names only while it is Ready, and take the record from it at once
     * otherwise (their acquire also requires their own Pod Ready). A new candidate's application may stand before the
     * kubelet marks its Pod Ready (the readiness probe's period, {@code leader.follow-readiness=false}): its claim
     * makes every old pod take over at once, while its own term starts. {@code
     * it.ConfigMapMigrationAttackITTest#aNewCandidateWhosePodIsNotReadyYetMakesTheOldPodsTakeOverTheMomentItClaims}
     * shows the old code doing so.
     */
    @Test
    void aCandidateWhosePodIsNotReadyDoesNotClaimTheRecord() {
        client.pods().withName("new-1").delete();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> client.pods().withName("new-1").get() == null);
        pod("new-1", false);
        entryOfOurs("new-2", "new-2/new-2-xyz");
        ConfigMapMigration migration = started("new-1", ME, Duration.ofSeconds(5));

        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held(ME)))
                .isInstanceOf(LeaseConflictException.class);
        assertThat(configMap().getData()).containsEntry(KEY, "new-2");
        assertThat(leases.get(LEASE)).isEmpty();
    }

    /**
     * Each write that starts or holds a term is one store call for the elector, bounded by 1.25 × the request
     * timeout; the migration makes it several requests in a row (read the record, write the Lease, claim the record;
     * a renew: write, then read the record), each bounded by the request timeout alone. An API server answering every
     * request within 0.68 × the request timeout then times out every such call, although every write lands: the
     * candidate never leads (and, rewriting the Lease with each attempt, keeps the other candidates out). The same
     * election without the migration leads.
     */
    @Test
    void aMigratedElectionLeadsWhenEveryRequestIsAnsweredWithinItsTimeout() {
        Duration requestTimeout = Duration.ofMillis(400);
        dispatcher.after = (request, response) -> {
            if (!request.path().contains("watch=true")) {
                response.setBodyDelay(Duration.ofMillis(270));
            }
        };
        entryOfOurs("new-2", "new-2/new-2-xyz");
        ElectionSettings migrated = new ElectionSettings(
                LEASE, ME, Duration.ofMillis(2000), Duration.ofMillis(1000), Duration.ofMillis(400), requestTimeout);
        ElectionSettings plain = new ElectionSettings(
                "plain",
                "plain-1",
                Duration.ofMillis(2000),
                Duration.ofMillis(1000),
                Duration.ofMillis(400),
                requestTimeout);
        Election withoutMigration = plainElection(plain);
        Election withMigration = election(migrated, leases, requestTimeout);

        await("the election without the migration leads")
                .atMost(Duration.ofSeconds(15))
                .until(() -> withoutMigration.elector.isLeader());
        await("the migrated election leads")
                .atMost(Duration.ofSeconds(15))
                .until(() -> withMigration.elector.isLeader());
    }

    /**
     * A claim that loses to an old pod after the Lease write landed is reported to the elector as a conflict, so the
     * elector forgets that write as its own ({@code OwnTerms.lost}) and waits for its own orphan Lease record to expire
     * like anybody else's: once the old leader's pod is gone, the hand-over to the new pods costs a whole lease
     * duration (15 s by default) instead of a retry period. Never two leaders; only time without one.
     */
    @Test
    void afterAClaimLostToAnOldPodTheCandidateLeadsSoonOnceThatPodIsGone() {
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz");
        releasedLease();
        AtomicBoolean raced = new AtomicBoolean();
        LeaseStore hooked = new ForwardingLeaseStore(leases) {
            @Override
            public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                VersionedLease written = super.update(name, record, expectedVersion);
                if (record.isHeldBy(ME) && raced.compareAndSet(false, true)) {
                    oldPodWrites("old-1");
                }
                return written;
            }
        };
        ElectionSettings settings = new ElectionSettings(
                LEASE,
                ME,
                Duration.ofSeconds(8),
                Duration.ofSeconds(5),
                Duration.ofMillis(500),
                Duration.ofMillis(500));
        Election election = election(settings, hooked);
        await().atMost(Duration.ofSeconds(10)).untilTrue(raced);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> election.migration
                        .blocker()
                        .filter(why -> why.contains("names old-1"))
                        .isPresent());

        client.pods().withName("old-1").delete(); // old-1's process has ended: the record names nobody alive

        await("leads within a few retry periods, not a lease duration")
                .atMost(Duration.ofSeconds(3))
                .until(() -> election.elector.isLeader());
    }

    // ---------------------------------------------------------------------------------------------------------
    // What holds: regression tests.

    /**
     * The Lease write of an acquire lands, then an old pod takes the record before the claim: the claim's
     * compare-and-set conflicts, no term starts (the Lease write expires), and the candidate leads only once that old
     * leader's pod is gone, with the record naming it first.
     */
    @Test
    void anOldPodThatTakesTheRecordBetweenTheLeaseWriteAndTheClaimKeepsTheElectorFromLeading() {
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz");
        releasedLease();
        AtomicBoolean raced = new AtomicBoolean();
        LeaseStore hooked = new ForwardingLeaseStore(leases) {
            @Override
            public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                VersionedLease written = super.update(name, record, expectedVersion);
                if (record.isHeldBy(ME) && raced.compareAndSet(false, true)) {
                    oldPodWrites("old-1");
                }
                return written;
            }
        };
        Election election = election(fastSettings(), hooked);

        await().atMost(Duration.ofSeconds(10)).untilTrue(raced);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(election.grants::isEmpty);
        assertThat(configMap().getData()).containsEntry(KEY, "old-1");

        client.pods().withName("old-1").delete(); // old-1's process has ended
        await().atMost(Duration.ofSeconds(15)).until(() -> !election.grants.isEmpty());
        assertThat(election.grantsWhileAnOldLeaderWasNamed).isEmpty();
        assertThat(election.recordAtGrants)
                .allSatisfy(
                        data -> assertThat(data).containsEntry(KEY, "new-1").containsEntry(HOLDER_KEY, "new-1/" + ME));
    }

    /**
     * The claim lands but its answer is lost (the request times out): that write starts no term; the candidate takes
     * its own Lease again and leads, the record naming it.
     */
    @Test
    void aClaimWhoseAnswerIsLostStartsNoTermAndTheCandidateLeadsAfterwards() {
        entryOfOurs("new-2", "new-2/new-2-xyz");
        releasedLease();
        AtomicBoolean delayed = new AtomicBoolean();
        dispatcher.after = (request, response) -> {
            if (request.isClaimBy("new-1") && response.code() == 200 && delayed.compareAndSet(false, true)) {
                response.setBodyDelay(Duration.ofSeconds(2)); // longer than the request timeout: the answer is lost
            }
        };
        Election election = election(fastSettings(), leases);

        await().atMost(Duration.ofSeconds(15)).until(() -> election.elector.isLeader());
        assertThat(delayed).isTrue();
        assertThat(election.grantsWhileAnOldLeaderWasNamed).isEmpty();
        assertThat(election.recordAtGrants)
                .allSatisfy(
                        data -> assertThat(data).containsEntry(KEY, "new-1").containsEntry(HOLDER_KEY, "new-1/" + ME));
    }

    /**
     * The Lease write lands but its answer is lost, so the record is not claimed; an old pod takes the free record
     * meanwhile. No term starts while that old leader's pod exists.
     */
    @Test
    void aLeaseWriteWhoseAnswerIsLostBeforeTheClaimStartsNoTermBesideAnOldPodThatTookTheRecord() {
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz");
        releasedLease();
        AtomicBoolean lost = new AtomicBoolean();
        LeaseStore hooked = new ForwardingLeaseStore(leases) {
            @Override
            public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
                VersionedLease written = super.update(name, record, expectedVersion);
                if (record.isHeldBy(ME) && lost.compareAndSet(false, true)) {
                    oldPodWrites("old-1");
                    throw new LeaseStoreException(LeaseStoreException.Kind.TIMEOUT, "the answer was lost");
                }
                return written;
            }
        };
        Election election = election(fastSettings(), hooked);

        await().atMost(Duration.ofSeconds(10)).untilTrue(lost);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(6)).until(election.grants::isEmpty);

        client.pods().withName("old-1").delete();
        await().atMost(Duration.ofSeconds(15)).until(() -> !election.grants.isEmpty());
        assertThat(election.grantsWhileAnOldLeaderWasNamed).isEmpty();
    }

    /** A leader whose record an old pod takes hands over at once: revoked as a yield, then the Lease is released. */
    @Test
    void aLeaderWhoseRecordAnOldPodTakesYieldsAndReleasesTheLease() {
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz");
        releasedLease();
        Election election = election(fastSettings(), leases);
        await().atMost(Duration.ofSeconds(10)).until(() -> election.elector.isLeader());

        oldPodWrites("old-1");

        await().atMost(Duration.ofSeconds(5)).until(() -> election.revocations.contains(RevocationReason.YIELDED));
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        leases.get(LEASE).map(lease -> !lease.record().isHeld()).orElse(false));
    }

    /**
     * Without the ConfigMap watch (the Role lacks {@code watch} on configmaps), each renew's read of the record still
     * makes a leader whose record an old pod took hand over within a retry period or so.
     */
    @Test
    void withoutTheConfigMapWatchARenewsReadMakesTheLeaderHandOver() {
        dispatcher.instead = request ->
                request.path().contains("/configmaps") && request.path().contains("watch=true")
                        ? forbidden("configmaps is forbidden: cannot watch resource \"configmaps\"")
                        : null;
        readyPod("old-1");
        entryOfOurs("new-2", "new-2/new-2-xyz");
        releasedLease();
        Election election = election(fastSettings(), leases);
        await().atMost(Duration.ofSeconds(10)).until(() -> election.elector.isLeader());

        oldPodWrites("old-1");

        await().atMost(Duration.ofSeconds(5)).until(() -> !election.elector.isLeader());
        assertThat(election.revocations).contains(RevocationReason.YIELDED);
    }

    /** A Role without {@code get} on pods: the candidate never stands, and a write that would start a term is refused. */
    @Test
    void aRefusalToReadPodsKeepsTheCandidateFromEverLeadingAndNamesTheRule() {
        dispatcher.instead = request ->
                "GET".equals(request.method()) && request.path().contains("/pods/")
                        ? forbidden("pods \"new-1\" is forbidden: cannot get resource \"pods\"")
                        : null;
        entryOfOurs("new-2", "new-2/new-2-xyz");
        ConfigMapMigration migration = started("new-1", ME, Duration.ofSeconds(5));

        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held(ME)))
                .isInstanceOf(LeaseStoreException.class)
                .hasMessageContaining("pods")
                .hasMessageContaining("get");
        assertThat(migration.blocker()).isPresent();
        assertThat(leases.get(LEASE)).isEmpty();
        assertThat(configMap().getData()).containsEntry(KEY, "new-2");
    }

    /** The ConfigMap deleted by hand while a new candidate leads: its renews write it again, naming it. */
    @Test
    void aConfigMapDeletedWhileANewCandidateLeadsIsWrittenAgainByItsRenews() {
        entryOfOurs("new-2", "new-2/new-2-xyz");
        ConfigMapMigration migration = started("new-1", ME, Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());
        LeaseStore store = migration.store(leases);
        LeaseRecord term = held(ME);
        VersionedLease written = store.create(LEASE, term);

        client.configMaps().withName("leaders").delete();
        await().atMost(Duration.ofSeconds(5)).until(() -> configMap() == null);
        written = store.update(LEASE, term, written.version()); // lands; its read finds the record gone
        now.addAndGet(RETRY.toNanos()); // past any wait a free record may impose on the migration's clock
        store.update(LEASE, term, written.version()); // claims it again

        assertThat(configMap().getData()).containsEntry(KEY, "new-1").containsEntry(HOLDER_KEY, "new-1/" + ME);
    }

    /** The process restarted in the same Pod (same pod name, new identity): the Lease decides, the holder is rewritten. */
    @Test
    void aRestartInTheSamePodStandsAndRewritesTheHolder() {
        entryOfOurs("new-1", "new-1/new-1-before");
        ConfigMapMigration migration = started("new-1", "new-1-after", Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());

        migration.store(leases).create(LEASE, held("new-1-after"));

        assertThat(configMap().getData()).containsEntry(KEY, "new-1").containsEntry(HOLDER_KEY, "new-1/new-1-after");
    }

    /**
     * Two new candidates: new-1 read the record, then new-2 took the Lease and the record before new-1's Lease write.
     * new-1's write conflicts and it writes nothing to the record.
     */
    @Test
    void ofTwoNewCandidatesOnlyTheOneThatWonTheLeaseWritesTheRecord() {
        readyPod("new-2");
        entryOfOurs("new-0", "new-0/new-0-xyz");
        ConfigMapMigration second = started("new-2", "new-2-xyz", Duration.ofSeconds(5));
        ConfigMapMigration first = started("new-1", ME, Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> first.blocker().isEmpty() && second.blocker().isEmpty());
        LeaseStore racing = new ForwardingLeaseStore(leases) {
            @Override
            public VersionedLease create(String name, LeaseRecord record) {
                second.store(leases).create(LEASE, held("new-2-xyz")); // between new-1's read and its Lease write
                return super.create(name, record);
            }
        };

        assertThatThrownBy(() -> first.store(racing).create(LEASE, held(ME)))
                .isInstanceOf(LeaseConflictException.class);

        assertThat(configMap().getData()).containsEntry(KEY, "new-2").containsEntry(HOLDER_KEY, "new-2/new-2-xyz");
        assertThat(leases.get(LEASE).orElseThrow().record().holderIdentity()).isEqualTo("new-2-xyz");
    }

    /** A closed migration (the application shutting down) lets no write start a term: nothing is written. */
    @Test
    void aClosedMigrationStartsNoTerm() {
        entryOfOurs("new-2", "new-2/new-2-xyz");
        ConfigMapMigration migration = started("new-1", ME, Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10)).until(() -> migration.blocker().isEmpty());

        migration.close();

        assertThatThrownBy(() -> migration.store(leases).create(LEASE, held(ME)))
                .isInstanceOf(LeaseStoreException.class);
        assertThat(leases.get(LEASE)).isEmpty();
        assertThat(configMap().getData()).containsEntry(KEY, "new-2");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fixtures

    /** A request as the hooks see it: its body read without consuming it (the CRUD server reads it after). */
    record Request(String method, String path, String body) {
        static Request of(RecordedRequest request) {
            byte[] bytes =
                    request.getBody() == null ? new byte[0] : request.getBody().getBytes();
            return new Request(request.getMethod(), request.getPath(), new String(bytes, StandardCharsets.UTF_8));
        }

        /** Whether it writes the record naming {@code pod} (a claim by that candidate). */
        boolean isClaimBy(String pod) {
            if (!("PUT".equals(method) || "POST".equals(method)) || !path.contains("/configmaps") || body.isBlank()) {
                return false;
            }
            ConfigMap written = JSON.unmarshal(body, ConfigMap.class);
            return written.getData() != null && pod.equals(written.getData().get(KEY));
        }
    }

    /** The mock API server's CRUD mode, with hooks to answer a request instead, or to change an answer. */
    static final class HookedDispatcher extends Dispatcher {
        private final PreconditionCrudDispatcher crud = new PreconditionCrudDispatcher();
        /** Answers a request itself when it returns an answer; null passes it on. */
        volatile Function<Request, MockResponse> instead = request -> null;
        /** Sees (and may change, such as delay) each answer of the CRUD server. */
        volatile BiConsumer<Request, MockResponse> after = (request, response) -> {};

        @Override
        public MockResponse dispatch(RecordedRequest recorded) {
            Request request = Request.of(recorded);
            MockResponse answer = instead.apply(request);
            if (answer != null) {
                return answer;
            }
            MockResponse response = crud.dispatch(recorded);
            after.accept(request, response);
            return response;
        }
    }

    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private static MockResponse forbidden(String message) {
        return new MockResponse().setResponseCode(403).setBody("""
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403, "reason": "Forbidden",
                 "message": "%s"}
                """.formatted(message.replace("\"", "\\\"")));
    }

    /** An elector over the migration, wired as LeaderElectionAutoConfiguration wires it; what its listener saw. */
    final class Election implements LeadershipListener {
        volatile LeaseElector elector;
        volatile ConfigMapMigration migration;
        final List<LeadershipTerm> grants = new CopyOnWriteArrayList<>();
        final List<RevocationReason> revocations = new CopyOnWriteArrayList<>();
        /** Grants made while the record named a pod other than new-1 that exists (an old leader). */
        final List<String> grantsWhileAnOldLeaderWasNamed = new CopyOnWriteArrayList<>();
        /** The record's data at each grant. */
        final List<Map<String, String>> recordAtGrants = new CopyOnWriteArrayList<>();

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            grants.add(term);
            ConfigMap now = configMap();
            Map<String, String> data = now == null || now.getData() == null ? Map.of() : now.getData();
            recordAtGrants.add(data);
            String named = data.get(KEY);
            if (named != null
                    && !named.equals("new-1")
                    && client.pods().withName(named).get() != null) {
                grantsWhileAnOldLeaderWasNamed.add(term + " while the record named " + named);
            }
        }

        @Override
        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
            revocations.add(reason);
        }
    }

    private Election election(ElectionSettings settings, LeaseStore store) {
        return election(settings, store, settings.requestTimeout());
    }

    private Election election(ElectionSettings settings, LeaseStore store, Duration requestTimeout) {
        ConfigMapMigration migration = new ConfigMapMigration(
                new ConfigMapLeaders(client, RECORD, NAMESPACE, requestTimeout),
                "new-1",
                settings.identity(),
                runtime,
                settings.retryPeriod(),
                settings.leaseDuration(),
                requestTimeout,
                now::get);
        toClose.add(migration);
        Election election = new Election();
        LeaseElector elector = LeaseElector.builder(settings, migration.store(store))
                .runtime(runtime)
                .candidacy(migration.candidacy(Candidacy.EAGER))
                .listener(election)
                .build();
        election.elector = elector;
        election.migration = migration;
        migration.start(elector::standingChanged);
        elector.start();
        toClose.add(() -> elector.stop(Duration.ofSeconds(2)));
        return election;
    }

    private Election plainElection(ElectionSettings settings) {
        Election election = new Election();
        LeaseElector elector =
                LeaseElector.builder(settings, leases).runtime(runtime).build();
        election.elector = elector;
        elector.start();
        toClose.add(() -> elector.stop(Duration.ofSeconds(2)));
        return election;
    }

    private static ElectionSettings fastSettings() {
        return settings(Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(500));
    }

    private static ElectionSettings settings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        return new ElectionSettings(LEASE, ME, leaseDuration, renewDeadline, retryPeriod, Duration.ofMillis(500));
    }

    private ConfigMapMigration started(String pod, String identity, Duration requestTimeout) {
        return started(pod, identity, requestTimeout, () -> {});
    }

    private void readyPod(String name) {
        pod(name, true);
    }

    /** An entry one of ours wrote (a previous new leader of this role, which released the Lease). */
    private void entryOfOurs(String pod, String holder) {
        client.configMaps()
                .resource(new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName("leaders")
                        .endMetadata()
                        .addToData(KEY, pod)
                        .addToData(HOLDER_KEY, holder)
                        .build())
                .create();
    }

    /** The Lease created beforehand as a release, as the README's upgrade procedure suggests: taken at once. */
    private void releasedLease() {
        world.releasedLease(LEASE);
    }
}
