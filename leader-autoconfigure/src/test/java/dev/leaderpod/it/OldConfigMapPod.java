package dev.leaderpod.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import org.springframework.cloud.kubernetes.commons.leader.Leader;
import org.springframework.cloud.kubernetes.commons.leader.LeaderInitiator;
import org.springframework.cloud.kubernetes.commons.leader.LeaderProperties;
import org.springframework.cloud.kubernetes.fabric8.leader.Fabric8LeaderRecordWatcher;
import org.springframework.cloud.kubernetes.fabric8.leader.Fabric8LeadershipController;
import org.springframework.cloud.kubernetes.fabric8.leader.Fabric8PodReadinessWatcher;
import org.springframework.integration.leader.Context;
import org.springframework.integration.leader.DefaultCandidate;
import org.springframework.integration.leader.event.LeaderEventPublisher;

/**
 * One pod of the application's previous version: spring-cloud-kubernetes-fabric8-leader 3.3.0's real ConfigMap
 * leader ({@code LeaderInitiator} with the leadership controller, the ConfigMap watcher and the pod readiness watcher,
 * as its auto-configuration wires them, with its default update period of 60 s), candidate id = pod name, with its own
 * client as its own process would have. What its user code sees — scl's {@link LeaderEventPublisher} callbacks, called
 * synchronously by the controller — goes to the shared timeline.
 *
 * <p>As in the benchmarks' {@code ConfigMapCandidate}: the initiator runs its first update only one update period
 * after it starts, so {@link #start()} calls {@code update()} once itself.
 */
final class OldConfigMapPod {

    /** Where a candidate's grants and revocations go, as its user code sees them. */
    interface Transitions {
        void record(String candidate, boolean granted);
    }

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

    final String name;
    private final KubernetesClient client;
    private final Fabric8LeadershipController controller;
    private final LeaderInitiator initiator;
    private volatile boolean leader;

    OldConfigMapPod(
            KubernetesMockServer server, String name, String role, String configMapName, Transitions transitions) {
        this.name = name;
        this.client = server.createClient();
        LeaderProperties properties = new LeaderProperties();
        properties.setRole(role);
        properties.setConfigMapName(configMapName);
        LeaderEventPublisher publisher = new LeaderEventPublisher() {
            @Override
            public void publishOnGranted(Object source, Context context, String role) {
                leader = true;
                transitions.record(name, true);
            }

            @Override
            public void publishOnRevoked(Object source, Context context, String role) {
                leader = false;
                transitions.record(name, false);
            }

            @Override
            public void publishOnFailedToAcquire(Object source, Context context, String role) {}
        };
        controller = new Fabric8LeadershipController(new DefaultCandidate(name, role), properties, publisher, client);
        initiator = new LeaderInitiator(
                properties,
                controller,
                new Fabric8LeaderRecordWatcher(properties, controller, client),
                new Fabric8PodReadinessWatcher(name, client, controller));
    }

    /** Starts the candidate; its Ready Pod must exist already (the kubelet runs the process in it). */
    void start() {
        initiator.start();
        controller.update(); // what the initiator would do one update period (60 s) later
    }

    /**
     * A graceful stop, as the context of the old version closes: the initiator stops its watchers and revokes — a
     * leader removes its entry from the ConfigMap (compare-and-set) and is told it was revoked. Then the process
     * exits: its connections close. (The caller deletes the Pod afterwards, as Kubernetes does.)
     */
    void stop() {
        Thread stopper = new Thread(initiator::stop, "stop-" + name);
        stopper.setDaemon(true);
        stopper.start();
        try {
            stopper.join(STOP_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        if (stopper.isAlive()) {
            throw new AssertionError("spring-cloud-kubernetes' LeaderInitiator.stop() of " + name
                    + " did not return within " + STOP_TIMEOUT + "; deadlocked threads: " + deadlocks());
        }
    }

    /** The JVM's deadlocked threads with their stacks (scl's controller and watcher locks can deadlock). */
    private static String deadlocks() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] ids = threads.findDeadlockedThreads();
        if (ids == null) {
            return "none";
        }
        StringBuilder out = new StringBuilder();
        for (ThreadInfo info : threads.getThreadInfo(ids, true, true)) {
            out.append('\n')
                    .append(info.getThreadName())
                    .append(" waits for ")
                    .append(info.getLockName())
                    .append(" held by ")
                    .append(info.getLockOwnerName());
            for (StackTraceElement frame : info.getStackTrace()) {
                out.append("\n    at ").append(frame);
            }
        }
        return out.toString();
    }

    boolean isLeader() {
        return leader;
    }

    /** Whom the controller follows (its own name while it leads), or null. */
    String follows() {
        Leader local = controller.getLocalLeader().orElse(null);
        return local == null ? null : local.getId();
    }
}
