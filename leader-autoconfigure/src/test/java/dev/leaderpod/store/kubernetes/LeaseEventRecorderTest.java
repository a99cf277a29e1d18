package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.RevocationReason;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Kubernetes Events of leadership transitions against the fabric8 mock API (CRUD, with expectations where a test
 * needs the events endpoint to refuse or hang): what an event holds, the history of an election as its candidate
 * tells it, a 403, and an events endpoint that hangs.
 */
@ExtendWith(OutputCaptureExtension.class)
class LeaseEventRecorderTest {

    private static final String NAMESPACE = "team-a";
    private static final String EVENTS_PATH = "/api/v1/namespaces/" + NAMESPACE + "/events";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(4);
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KubernetesMockServer server;
    private KubernetesClient admin;

    @BeforeEach
    void startServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), expectations, new KubernetesMixedDispatcher(expectations), false);
        server.init();
        admin = server.createClient();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        admin.close();
        server.destroy();
    }

    @Test
    void theNewLeaderRecordsItsGrantOnTheLeaseAsClientGoDoes() {
        Lease lease = createLease("billing", "pod-a");
        LeaseEventRecorder recorder = recorder();
        LeadershipListener history = recorder.listener("billing", "pod-b");

        // As pod-b's elector tells it: pod-a holds the lease, releases it, pod-b writes it and leads.
        history.onNewLeader("pod-a", 6);
        history.onNewLeader(null, 6);
        history.onNewLeader("pod-b", 7);
        history.onStartedLeading(term(7));

        Event event = awaitEvents(1).get(0);
        ObjectReference regarding = event.getInvolvedObject();
        assertThat(regarding.getApiVersion()).isEqualTo("coordination.k8s.io/v1");
        assertThat(regarding.getKind()).isEqualTo("Lease");
        assertThat(regarding.getNamespace()).isEqualTo(NAMESPACE);
        assertThat(regarding.getName()).isEqualTo("billing");
        // kubectl describe lease finds the Lease's events by its uid.
        assertThat(regarding.getUid())
                .isNotBlank()
                .isEqualTo(lease.getMetadata().getUid());
        assertThat(event.getReason()).isEqualTo("LeaderElection");
        assertThat(event.getType()).isEqualTo("Normal");
        assertThat(event.getMessage())
                .isEqualTo("pod-b became leader of billing (fencing token 7) after pod-a released it");
        assertThat(event.getMetadata().getName()).startsWith("billing.");
        assertThat(event.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
        assertThat(event.getReportingComponent()).isEqualTo(LeaseEventRecorder.COMPONENT);
        assertThat(event.getReportingInstance()).isEqualTo("pod-b");
        assertThat(event.getSource().getComponent()).isEqualTo(LeaseEventRecorder.COMPONENT);
        assertThat(event.getCount()).isEqualTo(1);
        assertThat(event.getFirstTimestamp()).isNotBlank().isEqualTo(event.getLastTimestamp());
    }

    @Test
    void everyTransitionOfTheCandidateIsRecordedWithWhyButNotTheEndOfATermAtShutdown() {
        createLease("billing", "pod-b");
        LeadershipListener history = recorder().listener("billing", "pod-b");

        history.onStartedLeading(term(0));
        history.onStoppedLeading(term(0), RevocationReason.DEADLINE_PASSED);
        history.onStartedLeading(term(1));
        history.onStoppedLeading(term(1), RevocationReason.LOST);
        history.onNewLeader("pod-c", 2);
        history.onStartedLeading(term(3));
        history.onStoppedLeading(term(3), RevocationReason.YIELDED);
        history.onNewLeader(null, 3); // its own release
        history.onNewLeader("pod-c", 4);
        history.onNewLeader(null, 4);
        history.onStartedLeading(term(5));
        history.onStoppedLeading(term(5), RevocationReason.RELEASED);
        history.onStartedLeading(term(6));
        history.onStoppedLeading(term(6), RevocationReason.SHUTDOWN); // not recorded: the release says it
        history.onStartedLeading(term(7));

        assertThat(awaitEvents(10).stream().map(event -> event.getType() + ": " + event.getMessage()))
                .containsExactlyInAnyOrder(
                        "Normal: pod-b became leader of billing (fencing token 0), the first leader it has seen",
                        "Warning: pod-b stopped leading billing (fencing token 0): no renew succeeded within the renew"
                                + " deadline",
                        "Normal: pod-b became leader of billing (fencing token 1) again after its own previous term"
                                + " ended",
                        "Warning: pod-b stopped leading billing (fencing token 1): another candidate holds the lease",
                        "Normal: pod-b became leader of billing (fencing token 3) after pod-c stopped renewing it",
                        "Normal: pod-b stopped leading billing (fencing token 3): it yielded",
                        "Normal: pod-b became leader of billing (fencing token 5) after pod-c released it",
                        "Normal: pod-b stopped leading billing (fencing token 5): the lease was released or deleted by"
                                + " someone else",
                        "Normal: pod-b became leader of billing (fencing token 6) again after its own previous term"
                                + " ended",
                        "Normal: pod-b became leader of billing (fencing token 7) again after its own previous term"
                                + " ended");
    }

    @Test
    void aForbiddenPostIsOneWarningNamingTheRuleAndNoRequestFollows(CapturedOutput output) throws Exception {
        createLease("billing", "pod-b");
        server.expect()
                .post()
                .withPath(EVENTS_PATH)
                .andReturn(
                        403,
                        "{\"kind\":\"Status\",\"code\":403,\"reason\":\"Forbidden\",\"message\":\"events is"
                                + " forbidden\"}")
                .always();
        LeaseEventRecorder recorder = recorder();
        LeadershipListener history = recorder.listener("billing", "pod-b");
        LeadershipListener reports = recorder.listener("billing-reports", "pod-b");

        history.onStartedLeading(term(0));
        await().atMost(WAIT).until(() -> output.getOut().contains("Not recording leadership transitions"));
        assertThat(recorder.isForbidden()).isTrue();
        int requests = server.getRequestCount();
        history.onStoppedLeading(term(0), RevocationReason.YIELDED);
        history.onStartedLeading(term(1));
        reports.onStartedLeading(new LeadershipTerm("billing-reports", "pod-b", 0, Instant.now()));

        // Nothing was even queued: the requests so far are all there will be.
        assertThat(server.getRequestCount()).isEqualTo(requests);
        assertThat(posts()).hasSize(1);
        assertThat(output)
                .containsOnlyOnce("Not recording leadership transitions as Kubernetes Events any more")
                .contains("Kubernetes Event on Lease team-a/billing: create was refused (HTTP 403 events is forbidden)")
                .contains("Role rule needed in namespace team-a: " + LeaseEventRecorder.RBAC_RULE)
                .doesNotContain("ERROR");
    }

    @Test
    void aHungEventsEndpointNeverDelaysAHandOver() throws Exception {
        // A released Lease: the first candidate takes it at once.
        admin.leases()
                .inNamespace(NAMESPACE)
                .resource(new LeaseBuilder()
                        .withNewMetadata()
                        .withName("billing")
                        .endMetadata()
                        .withNewSpec()
                        .withLeaseDurationSeconds(1)
                        .endSpec()
                        .build())
                .create();
        server.expect()
                .post()
                .delay(60, TimeUnit.SECONDS)
                .withPath(EVENTS_PATH)
                .andReturn(201, "{}")
                .always();
        LeaseElector a = elector("pod-a");
        LeaseElector b = elector("pod-b");

        a.start();
        await().atMost(WAIT).until(a::isLeader);
        b.start();
        await().atMost(WAIT).until(() -> b.snapshot().watching());
        // pod-a's event of its grant is being posted, and hangs for the request timeout.
        await().atMost(WAIT).until(() -> server.getRequestCount() > 0 && hasPost());

        long stopping = System.nanoTime();
        a.stop(Duration.ofSeconds(10));
        Duration stop = Duration.ofNanos(System.nanoTime() - stopping);
        await().atMost(WAIT).until(b::isLeader);
        Duration handOver = Duration.ofNanos(System.nanoTime() - stopping);

        // A listener that posted itself would hold pod-a's event thread, so its revocation and its release, until
        // the post gave up after the request timeout (4 s).
        assertThat(stop).isLessThan(REQUEST_TIMEOUT.dividedBy(2));
        assertThat(handOver).isLessThan(REQUEST_TIMEOUT.dividedBy(2));
    }

    @Test
    void eventsBeyondTheQueueAreDroppedWithOneWarningWhileTheEndpointHangs(CapturedOutput output) {
        createLease("billing", "pod-b");
        server.expect()
                .post()
                .delay(60, TimeUnit.SECONDS)
                .withPath(EVENTS_PATH)
                .andReturn(201, "{}")
                .always();
        LeadershipListener history = recorder().listener("billing", "pod-b");

        long recording = System.nanoTime();
        for (int token = 0; token < LeaseEventRecorder.QUEUE_CAPACITY + 4; token++) {
            history.onStartedLeading(term(token));
        }
        Duration recorded = Duration.ofNanos(System.nanoTime() - recording);

        assertThat(recorded).isLessThan(Duration.ofSeconds(1));
        assertThat(output)
                .containsOnlyOnce("Dropped a Kubernetes Event of a leadership transition: 16 events already wait to be"
                        + " posted");
    }

    @Test
    void eventNamesAreValidObjectNamesWhateverTheLeaseName() {
        String longest = "l".repeat(250) + "-a.b";
        Instant at = Instant.parse("2026-01-01T10:00:01.123456789Z");

        assertThat(LeaseEventRecorder.eventName("billing", LeaseEventRecorder.epochNanos(at)))
                .isEqualTo("billing.188693101826d715");
        assertThat(LeaseEventRecorder.eventName(longest, LeaseEventRecorder.epochNanos(at)))
                .hasSizeLessThanOrEqualTo(253)
                .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    }

    // ---------------------------------------------------------------------------------------------------------

    private LeaseEventRecorder recorder() {
        LeaseEventRecorder recorder = new LeaseEventRecorder(admin, NAMESPACE, REQUEST_TIMEOUT);
        toClose.add(recorder);
        return recorder;
    }

    private LeaseElector elector(String identity) {
        KubernetesLeaseStore store = new KubernetesLeaseStore(admin, NAMESPACE, REQUEST_TIMEOUT);
        LeaseEventRecorder recorder = recorder();
        ElectionSettings settings = new ElectionSettings(
                "billing",
                identity,
                Duration.ofSeconds(12),
                Duration.ofSeconds(8),
                Duration.ofSeconds(1),
                REQUEST_TIMEOUT);
        LeaseElector elector = LeaseElector.builder(settings, store)
                .listener(recorder.listener("billing", identity))
                .build();
        toClose.add(() -> elector.stop(Duration.ofSeconds(5)));
        toClose.add(store);
        return elector;
    }

    private Lease createLease(String name, String holder) {
        return admin.leases()
                .inNamespace(NAMESPACE)
                .resource(new LeaseBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .endMetadata()
                        .withNewSpec()
                        .withHolderIdentity(holder)
                        .withLeaseDurationSeconds(15)
                        .endSpec()
                        .build())
                .create();
    }

    private List<Event> awaitEvents(int count) {
        await().atMost(WAIT).until(() -> events().size() >= count);
        List<Event> events = events();
        assertThat(events).hasSize(count);
        return events;
    }

    private List<Event> events() {
        return admin.v1().events().inNamespace(NAMESPACE).list().getItems();
    }

    private boolean hasPost() throws InterruptedException {
        return !posts().isEmpty();
    }

    private final List<RecordedRequest> taken = new ArrayList<>();

    /** The posts to the events endpoint so far (requests are taken from the server as they come). */
    private List<RecordedRequest> posts() throws InterruptedException {
        RecordedRequest request;
        while ((request = server.takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
            taken.add(request);
        }
        return taken.stream()
                .filter(r -> r.getMethod().equals("POST") && r.getPath().equals(EVENTS_PATH))
                .toList();
    }

    private static LeadershipTerm term(long token) {
        return new LeadershipTerm("billing", "pod-b", token, Instant.now());
    }
}
