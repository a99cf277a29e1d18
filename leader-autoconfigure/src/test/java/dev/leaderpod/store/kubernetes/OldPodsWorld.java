package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseRecord;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The world of the ConfigMap migration's tests on the mock API server: pods as the kubelet reports them, and the
 * ConfigMap {@code leaders} as spring-cloud-kubernetes 3.3.0's old pods write it.
 */
public final class OldPodsWorld {

    static final String CONFIG_MAP = "leaders";

    private final KubernetesClient client;
    private final String key;

    /** @param key the role's key, {@code leader.id.<role>} */
    public OldPodsWorld(KubernetesClient client, String key) {
        this.client = client;
        this.key = key;
    }

    /** A running pod whose Ready condition is {@code ready}. */
    public void pod(String name, boolean ready) {
        var pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewStatus()
                .withPhase("Running")
                .addNewCondition()
                .withType("Ready")
                .withStatus(ready ? "True" : "False")
                .endCondition()
                .endStatus()
                .build();
        var created = client.pods().resource(pod).create();
        if (created.getStatus() == null || created.getStatus().getConditions().isEmpty()) {
            client.pods().resource(pod).updateStatus();
        }
    }

    /** What spring-cloud-kubernetes' acquire writes: its pod's name under the role's key, every other key kept. */
    void oldPodWrites(String pod) {
        ConfigMap existing = configMap();
        if (existing == null) {
            client.configMaps()
                    .resource(new ConfigMapBuilder()
                            .withNewMetadata()
                            .withName(CONFIG_MAP)
                            .endMetadata()
                            .addToData(key, pod)
                            .build())
                    .create();
        } else {
            client.configMaps()
                    .resource(new ConfigMapBuilder(existing).addToData(key, pod).build())
                    .lockResourceVersion(existing.getMetadata().getResourceVersion())
                    .update();
        }
    }

    /**
     * The Lease {@code name} created beforehand as a release, as the README's upgrade procedure suggests: the first
     * new candidate takes it at once.
     */
    public void releasedLease(String name) {
        client.leases()
                .resource(new LeaseBuilder()
                        .withNewMetadata()
                        .withName(name)
                        .endMetadata()
                        .withNewSpec()
                        .withHolderIdentity("")
                        .withLeaseDurationSeconds(1)
                        .endSpec()
                        .build())
                .create();
    }

    ConfigMap configMap() {
        return client.configMaps().withName(CONFIG_MAP).get();
    }

    /** A record held by {@code identity} now. */
    static LeaseRecord held(String identity) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return new LeaseRecord(identity, Duration.ofSeconds(15), now, now, 1L);
    }
}
