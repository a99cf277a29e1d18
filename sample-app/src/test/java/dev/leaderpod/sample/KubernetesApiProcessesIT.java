package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.store.kubernetes.LeaderPodLabeler;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The scenario against a Kubernetes API (the fabric8 CRUD mock server, started here on a port), the processes
 * pointed at it by the standard fabric8 client settings, with leader routing on: the leader's pod carries the
 * label.
 */
class KubernetesApiProcessesIT extends AbstractSampleProcessesIT {

    private static final String NAMESPACE = "test";

    private KubernetesMockServer server;
    private KubernetesClient admin;

    @BeforeEach
    void startApiServer() throws Exception {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getByName("127.0.0.1"), 0);
        admin = server.createClient();
        for (String name : List.of("p1", "p2", "p3")) {
            admin.pods()
                    .inNamespace(NAMESPACE)
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName(pod(name))
                            .endMetadata()
                            .build())
                    .create();
        }
    }

    @AfterEach
    void stopApiServer() {
        admin.close();
        server.destroy();
    }

    @Override
    String store() {
        return "kubernetes";
    }

    /** What a user sets to point the fabric8 client at an API server, outside a cluster. */
    @Override
    List<String> jvmOptions() {
        return List.of(
                "-Dkubernetes.master=http://127.0.0.1:" + server.getPort(),
                "-Dkubernetes.namespace=" + NAMESPACE,
                "-Dkubernetes.auth.tryKubeConfig=false",
                "-Dkubernetes.auth.tryServiceAccount=false");
    }

    @Override
    List<String> storeProperties() {
        return List.of("leader.store=kubernetes", "leader.namespace=" + NAMESPACE, "leader.kubernetes.label-pod=true");
    }

    @Override
    Map<String, String> environment(String name) {
        return Map.of("POD_NAME", pod(name));
    }

    @Override
    Instant renewTimeOfTheLease() {
        return admin.leases()
                .inNamespace(NAMESPACE)
                .withName("leaderpod-sample")
                .get()
                .getSpec()
                .getRenewTime()
                .toInstant();
    }

    /** Followers watch the Lease: they see the release at once. */
    @Override
    Duration maxHandOverAfterRelease() {
        return Duration.ofMillis(2000);
    }

    /** Leader routing: the leader's pod is labelled; a pod whose process stopped gracefully is not. */
    @Override
    void leaderChanged(SampleProcess leader, List<SampleProcess> others) {
        await().atMost(Duration.ofSeconds(10)).until(() -> "true".equals(label(leader.name)));
        for (SampleProcess process : processes) {
            boolean gracefullyStopped =
                    !process.process.isAlive() && !process.find(RELEASED).isEmpty();
            if (process != leader && (others.contains(process) || gracefullyStopped)) {
                assertThat(label(process.name)).as("label of " + process).isNotEqualTo("true");
            }
            if (gracefullyStopped) { // the label goes before the lease does
                Instant unlabelled = process.firstAt("Removed label .*ended \\((SHUTDOWN|YIELDED)\\)")
                        .orElseThrow();
                assertThat(unlabelled)
                        .isBeforeOrEqualTo(process.firstAt(RELEASED).orElseThrow());
            }
        }
    }

    private String label(String name) {
        return label(
                        admin.pods()
                                .inNamespace(NAMESPACE)
                                .withName(pod(name))
                                .get()
                                .getMetadata()
                                .getLabels(),
                        LeaderPodLabeler.LABEL)
                .orElse(null);
    }

    private static String pod(String name) {
        return "sample-" + name;
    }
}
