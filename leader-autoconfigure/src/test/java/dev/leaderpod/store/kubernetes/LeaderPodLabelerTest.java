package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;

import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
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
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Leader routing against the fabric8 CRUD mock API: the label follows the leadership of this candidate. */
@ExtendWith(OutputCaptureExtension.class)
class LeaderPodLabelerTest {

    private static final String NAMESPACE = "team-a";
    private static final LeadershipTerm TERM = new LeadershipTerm("jobs", "web-0-abcde", 4, Instant.now());

    private final Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    private KubernetesMockServer server;
    private KubernetesClient admin;
    private LeaderPodLabeler labeler;

    private void start() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), expectations, new KubernetesMixedDispatcher(expectations), false);
        server.init();
        admin = server.createClient();
        admin.pods()
                .inNamespace(NAMESPACE)
                .resource(new PodBuilder()
                        .withNewMetadata()
                        .withName("web-0")
                        .addToLabels("app", "web")
                        .endMetadata()
                        .build())
                .create();
        labeler = new LeaderPodLabeler(admin, NAMESPACE, "web-0", "web-0-abcde", Duration.ofSeconds(2));
    }

    @AfterEach
    void stop() {
        if (labeler != null) {
            labeler.close();
            admin.close();
            server.destroy();
        }
    }

    @Test
    void labelsThePodOnGrantAndRemovesTheLabelOnRevoke() throws Exception {
        start();
        labeler.onStartedLeading(TERM);
        assertThat(labels()).containsEntry(LeaderPodLabeler.LABEL, "true").containsEntry("app", "web");

        labeler.onStoppedLeading(TERM, RevocationReason.SHUTDOWN);
        assertThat(labels()).doesNotContainEntry(LeaderPodLabeler.LABEL, "true").containsEntry("app", "web");
    }

    @Test
    void eachChangeIsOneMergePatchAndNoRead() throws Exception {
        start();
        skipRequests(server.getRequestCount()); // the set-up's create
        labeler.onStartedLeading(TERM);
        labeler.onStoppedLeading(TERM, RevocationReason.YIELDED);

        RecordedRequest set = server.takeRequest(5, TimeUnit.SECONDS);
        RecordedRequest remove = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(server.getRequestCount()).isEqualTo(3);
        for (RecordedRequest request : new RecordedRequest[] {set, remove}) {
            assertThat(request.getMethod()).isEqualTo("PATCH");
            assertThat(request.getPath()).isEqualTo("/api/v1/namespaces/team-a/pods/web-0");
            assertThat(request.getHeader("Content-Type")).startsWith("application/merge-patch+json");
        }
        // The body is a JSON merge patch whose null removes the label on a real API server (RFC 7386); the mock
        // keeps the key with a null value, hence "not true" in the other tests.
        assertThat(labels()).containsEntry(LeaderPodLabeler.LABEL, null);
    }

    private void skipRequests(int count) throws InterruptedException {
        for (int i = 0; i < count; i++) {
            server.takeRequest(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void removesALabelLeftBehindWhenAnotherCandidateLeads() {
        start();
        labeler.onStartedLeading(TERM); // as a process that was then killed, leaving the label on its pod
        // Restarted without a client to share: the labeler builds its own from the configuration.
        LeaderPodLabeler restarted = new LeaderPodLabeler(
                admin.getConfiguration(), NAMESPACE, "web-0", "web-0-fghij", Duration.ofSeconds(2));
        try {
            restarted.onNewLeader("web-1-klmno", 5);
            assertThat(labels()).doesNotContainEntry(LeaderPodLabeler.LABEL, "true");
        } finally {
            restarted.close();
        }
    }

    @Test
    void ownLeadershipAnnouncedAsNewLeaderLeavesTheLabelAlone() {
        start();
        labeler.onStartedLeading(TERM);
        int requests = server.getRequestCount();
        labeler.onNewLeader("web-0-abcde", 4);
        assertThat(labels()).containsEntry(LeaderPodLabeler.LABEL, "true");
        assertThat(server.getRequestCount() - requests)
                .as("requests besides the read")
                .isEqualTo(1);
    }

    @Test
    void forbiddenIsAWarningNamingTheRuleNeverAnException(CapturedOutput output) {
        start();
        server.expect()
                .patch()
                .withPath("/api/v1/namespaces/" + NAMESPACE + "/pods/web-0")
                .andReturn(403, "{\"kind\":\"Status\",\"code\":403,\"reason\":\"Forbidden\"}")
                .always();

        assertThatNoException().isThrownBy(() -> labeler.onStartedLeading(TERM));
        assertThatNoException().isThrownBy(() -> labeler.onStoppedLeading(TERM, RevocationReason.LOST));

        assertThat(output)
                .contains("Could not set label leaderpod.dev/leader on pod team-a/web-0")
                .contains("Role rule needed in namespace team-a: " + LeaderPodLabeler.RBAC_RULE);
        assertThat(labels()).doesNotContainKey(LeaderPodLabeler.LABEL);
    }

    @Test
    void missingPodIsAWarningNamingTheDownwardApi(CapturedOutput output) {
        start();
        LeaderPodLabeler stranger =
                new LeaderPodLabeler(admin, NAMESPACE, "no-such-pod", "x-abcde", Duration.ofSeconds(2));
        try {
            assertThatNoException().isThrownBy(() -> stranger.onStartedLeading(TERM));
        } finally {
            stranger.close();
        }
        assertThat(output).contains("no such pod").contains("POD_NAME");
    }

    private Map<String, String> labels() {
        Pod pod = admin.pods().inNamespace(NAMESPACE).withName("web-0").get();
        return pod.getMetadata().getLabels();
    }
}
