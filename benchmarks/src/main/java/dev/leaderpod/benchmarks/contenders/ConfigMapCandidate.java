package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.FaultProxy;
import dev.leaderpod.benchmarks.support.MockApiServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.springframework.cloud.kubernetes.commons.leader.LeaderInitiator;
import org.springframework.cloud.kubernetes.commons.leader.LeaderProperties;
import org.springframework.cloud.kubernetes.fabric8.leader.Fabric8LeaderRecordWatcher;
import org.springframework.cloud.kubernetes.fabric8.leader.Fabric8LeadershipController;
import org.springframework.cloud.kubernetes.fabric8.leader.Fabric8PodReadinessWatcher;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.DefaultCandidate;
import org.springframework.integration.leader.event.LeaderEventPublisher;

/**
 * spring-cloud-kubernetes-fabric8-leader 3.3.0's ConfigMap leader, wired as its auto-configuration wires it:
 * {@code LeaderInitiator} with the leadership controller, the ConfigMap watcher and the pod readiness watcher, with
 * its default update period (60 s). It needs a Ready Pod named after the candidate, which this class creates (and
 * which a crash leaves Ready, as a network partition would).
 *
 * <p>One deviation: the initiator runs its first update only one update period after start, so a fresh election
 * would have no leader for 60 s; the harness calls {@code update()} once at start instead. Hand-over and API load
 * are the product's own mechanisms.
 */
public final class ConfigMapCandidate implements Candidate {

    private final String identity;
    private final FaultProxy proxy;
    private final KubernetesClient client;
    private final KubernetesClient admin;
    private final String namespace;
    private final Fabric8LeadershipController controller;
    private final LeaderInitiator initiator;
    private volatile boolean leader;
    private volatile long term = -1;
    private long grants;

    public ConfigMapCandidate(MockApiServer server, String namespace, String role, String identity, ElectionLog log) {
        this.identity = identity;
        this.namespace = namespace;
        this.proxy = new FaultProxy(server.port());
        this.client = MockApiServer.client(proxy.url(), namespace);
        this.admin = server.adminClient(namespace);
        LeaderProperties properties = new LeaderProperties();
        properties.setRole(role);
        properties.setNamespace(namespace);
        properties.setConfigMapName("leaders-" + role);
        LeaderEventPublisher publisher = new LeaderEventPublisher() {
            @Override
            public void publishOnGranted(Object source, Context context, String role) {
                leader = true;
                term = ++grants;
                log.granted(identity);
            }

            @Override
            public void publishOnRevoked(Object source, Context context, String role) {
                leader = false;
                term = -1;
                log.revoked(identity);
            }

            @Override
            public void publishOnFailedToAcquire(Object source, Context context, String role) {}
        };
        DefaultCandidate candidate = new DefaultCandidate(identity, role);
        controller = new Fabric8LeadershipController(candidate, properties, publisher, client);
        initiator = new LeaderInitiator(
                properties,
                controller,
                new Fabric8LeaderRecordWatcher(properties, controller, client),
                new Fabric8PodReadinessWatcher(identity, client, controller));
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public FaultProxy proxy() {
        return proxy;
    }

    @Override
    public void start() {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(identity)
                .withNamespace(namespace)
                .endMetadata()
                .withNewStatus()
                .addNewCondition()
                .withType("Ready")
                .withStatus("True")
                .endCondition()
                .endStatus()
                .build();
        Pod created = admin.pods().resource(pod).create();
        if (created.getStatus() == null || created.getStatus().getConditions().isEmpty()) {
            admin.pods().resource(pod).updateStatus();
        }
        initiator.start();
        controller.update(); // what the initiator would do one update period (60 s) later
    }

    @Override
    public boolean isLeader() {
        return leader;
    }

    @Override
    public long currentTermId() {
        return term;
    }

    @Override
    public void stopGracefully() {
        initiator.stop(); // stops the watchers, revokes (removes the leader entry)
    }

    @Override
    public void crash() {
        proxy.cut();
    }

    @Override
    public void close() {
        proxy.cut();
        Thread stopper = new Thread(initiator::stop, "stop-" + identity);
        stopper.setDaemon(true);
        stopper.setUncaughtExceptionHandler((thread, error) -> {}); // cut off: the revoke fails, as intended
        stopper.start();
        try {
            stopper.join(2000);
            admin.pods().withName(identity).delete(); // after the measurement: the pod is gone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // best effort
        }
        client.close();
        admin.close();
        proxy.close();
    }
}
