package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.store.kubernetes.OldPodsWorld;
import dev.leaderpod.store.kubernetes.PreconditionCrudDispatcher;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;

/**
 * {@code leader.migration.config-map=true} through whole rolling updates between an application's previous version,
 * which elects with spring-cloud-kubernetes-fabric8-leader 3.3.0's ConfigMap leader (its real code: {@link
 * OldConfigMapPod}), and this starter's version, against one Kubernetes API (the fabric8 mock server in CRUD mode):
 * pods are started and stopped as a Deployment's rolling update with {@code maxSurge: 1} does, each with its Pod
 * object (Ready while it runs; once its process has stopped, not Ready, then deleted), and the election never has two
 * leaders.
 *
 * <p>What counts is what each side's user code sees: one timeline ({@link System#nanoTime()}, recorded under one
 * lock) of the grants and revocations the old pods' {@code LeaderEventPublisher} receives (called synchronously by
 * scl's controller) and the {@link OnGrantedEvent}s and {@link OnRevokedEvent}s the new pods' contexts publish. No
 * two leaders means no two of its leadership intervals overlap. The leaderless time of each transition is printed,
 * never asserted (the machine may be loaded).
 */
class ConfigMapMigrationRollingUpgradeTest {

    private static final String NAMESPACE = "test"; // the mock server's clients' namespace
    private static final String APP = "billing";
    private static final String ROLE = "billing-jobs";
    private static final String CONFIG_MAP = "billing-leaders";
    /** The ConfigMap key naming the leader's pod: scl's default prefix and the role. */
    private static final String KEY = "leader.id." + ROLE;

    /** Generous: a loaded 2-core machine; a first election also waits a lease duration for the absent Lease. */
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** How long the final leader must stay the only one. */
    private static final Duration SETTLE = Duration.ofSeconds(2);

    private final Timeline timeline = new Timeline();
    /** The running pods of the old version, in the order they were started. */
    private final Map<String, OldConfigMapPod> oldPods = new LinkedHashMap<>();
    /** The running pods of this version, in the order they were started. */
    private final Map<String, NewPod> newPods = new LinkedHashMap<>();

    private KubernetesMockServer server;
    private KubernetesClient admin;

    @BeforeEach
    void startServer() {
        server = PreconditionCrudDispatcher.server(new PreconditionCrudDispatcher());
        admin = server.createClient();
    }

    @AfterEach
    void stopAll(TestInfo test) {
        // what happened, whatever the outcome
        System.out.printf("[migration] %s%n%s", test.getDisplayName(), timeline.report());
        try {
            // Followers first, the leader last: the teardown makes no hand-over.
            List<String> order = new ArrayList<>(Stream.concat(oldPods.keySet().stream(), newPods.keySet().stream())
                    .filter(name -> !leaders().contains(name))
                    .toList());
            order.addAll(leaders());
            for (String name : order) {
                try {
                    if (oldPods.containsKey(name)) {
                        oldPods.remove(name).stop();
                    } else {
                        NewPod pod = newPods.remove(name);
                        pod.context.close();
                        pod.client.close();
                    }
                } catch (RuntimeException | AssertionError e) {
                    System.out.printf("Teardown of %s failed: %s%n", name, e);
                }
            }
        } finally {
            admin.close();
            server.destroy();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scenarios

    /**
     * Three pods of the old version, then new-1 started, the old leader stopped, new-2 started, the (new) old leader
     * stopped, new-3 started, the last old pod stopped. Every step that stops an old pod stops the one that leads if
     * an old pod leads, so the first two stop the old leader while other old pods remain.
     */
    @Test
    void aRollingUpgradeFromTheConfigMapLeaderNeverHasTwoLeaders() {
        rollingUpgrade();
    }

    /**
     * The same with the Lease created beforehand as a release (no holder, {@code leaseDurationSeconds: 1}), as the
     * README's upgrade procedure suggests: the first new leader takes it at once instead of holding a Lease it had to
     * create for a lease duration (docs/design.md, "Third parties cannot make two leaders").
     */
    @Test
    void aRollingUpgradeWithTheLeaseCreatedReleasedBeforehandHandsOverInMilliseconds() {
        new OldPodsWorld(admin, KEY).releasedLease(APP);
        rollingUpgrade();
    }

    private void rollingUpgrade() {
        step("start old-1, old-2, old-3");
        startOld("old-1");
        startOld("old-2");
        startOld("old-3");
        String leader = awaitExactlyOneLeader();
        assertThat(leader).as("the first leader").startsWith("old-");
        awaitOldPodsFollow(leader);

        int leadersStoppedBesideOldPods = 0;
        for (int i = 1; i <= 3; i++) {
            step("start new-" + i);
            startNew("new-" + i);
            leader = awaitExactlyOneLeader();

            String stopping = oldPods.containsKey(leader)
                    ? leader
                    : oldPods.keySet().iterator().next();
            if (stopping.equals(leader) && oldPods.size() > 1) {
                leadersStoppedBesideOldPods++;
            }
            step("stop " + stopping + (stopping.equals(leader) ? " (the leader)" : " (a follower)"));
            stopOld(stopping);
            awaitExactlyOneLeader();
        }

        assertThat(oldPods).isEmpty();
        assertThat(leadersStoppedBesideOldPods)
                .as("steps that stopped the old leader while other old pods ran")
                .isPositive();
        leader = awaitStableSingleLeader();
        assertNeverTwoLeaders();
        assertThat(leader).as("the leader once only new pods run").startsWith("new-");
        assertThat(newPods.get(leader).elector().isLeader()).isTrue();
        assertThat(configMapEntry())
                .as("the ConfigMap names the new leader's pod")
                .isEqualTo(leader);
    }

    /**
     * The reverse: three pods of the new version lead, then old-1 started, the new leader stopped, old-2 started, the
     * new leader stopped, old-3 started, the last new pod stopped. An old pod leads at the end.
     */
    @Test
    void aRollbackToTheConfigMapLeaderNeverHasTwoLeaders() {
        step("start new-1, new-2, new-3");
        startNew("new-1");
        startNew("new-2");
        startNew("new-3");
        String leader = awaitExactlyOneLeader();
        assertThat(leader).as("the first leader").startsWith("new-");
        awaitConfigMapNames(leader);

        for (int i = 1; i <= 3; i++) {
            step("start old-" + i);
            OldConfigMapPod started = startOld("old-" + i);
            leader = awaitExactlyOneLeader();
            String followed = leader;
            await("old-" + i + " follows " + followed)
                    .atMost(WAIT)
                    .until(() -> followed.equals(started.follows()) || !followed.equals(onlyLeader()));

            String stopping = newPods.containsKey(leader)
                    ? leader
                    : newPods.keySet().iterator().next();
            step("stop " + stopping + (stopping.equals(leader) ? " (the leader)" : " (a follower)"));
            stopNew(stopping);
            awaitExactlyOneLeader();
        }

        assertThat(newPods).isEmpty();
        leader = awaitStableSingleLeader();
        assertNeverTwoLeaders();
        assertThat(leader).as("the leader once only old pods run").startsWith("old-");
        assertThat(configMapEntry())
                .as("the ConfigMap names the old leader's pod")
                .isEqualTo(leader);
        awaitOldPodsFollow(leader);
    }

    /**
     * A new leader whose Pod is marked not Ready while its application still accepts traffic (a readiness probe that
     * times out, a node condition): scl's old pods watch the leader's Pod and one takes the ConfigMap at once, telling
     * its code it leads in the same instant; the new leader hands over only once it learns of it (its watch of the
     * ConfigMap). docs/design.md, "Migration from the ConfigMap leader", says so: "What it cannot cover".
     */
    @Test
    @Disabled("Two leaders between an old pod's takeover and the new leader's revocation (runs: old-2 granted 52 ms"
            + " after the Pod was marked not Ready, new-1 revoked 20 ms later; another run: 102 ms, then 93 ms later):"
            + " scl's old pods take a leader whose Pod is not Ready for gone and take over at once, and the new leader"
            + " cannot stop before it learns of it. docs/design.md, \"Migration from the ConfigMap leader\", states"
            + " the limit; aNewLeaderWhoseApplicationRefusesTrafficHandsOverBeforeItsPodTurnsNotReady is the order"
            + " the starter covers")
    void aNewLeaderWhosePodIsMarkedNotReadyHandsOverToTheConfigMapLeader() {
        String leader = newLeaderFollowedByOldPods();

        step("new-1's Pod marked not Ready (the application still accepts traffic)");
        setPodReady(leader, false);
        leader = awaitStableSingleLeader();
        assertNeverTwoLeaders();
        assertThat(leader).as("the leader once new-1's Pod is not Ready").startsWith("old-");
        assertThat(configMapEntry()).isEqualTo(leader);
    }

    /**
     * The order Kubernetes and the starter give the same event when the application itself stops being ready: it
     * refuses traffic first (leadership follows readiness: the new leader hands over, another new pod takes the Lease
     * and the ConfigMap), and only then does the kubelet's probe mark its Pod not Ready, which the old pods no longer
     * care about. No old pod leads while a new one may.
     */
    @Test
    void aNewLeaderWhoseApplicationRefusesTrafficHandsOverBeforeItsPodTurnsNotReady() {
        String leader = newLeaderFollowedByOldPods();

        step(leader + " refuses traffic");
        AvailabilityChangeEvent.publish(newPods.get(leader).context, ReadinessState.REFUSING_TRAFFIC);
        String refusing = leader;
        await("a leader other than " + refusing)
                .atMost(WAIT)
                .until(this::leaders, leaders -> leaders.size() == 1 && !leaders.contains(refusing));
        awaitOldPodsLeave(refusing);
        step(refusing + "'s Pod marked not Ready by the kubelet's probe");
        setPodReady(refusing, false);
        leader = awaitStableSingleLeader();
        assertNeverTwoLeaders();
        assertThat(leader).as("the leader once new-1 refuses traffic").isEqualTo("new-2");
        assertThat(configMapEntry()).isEqualTo(leader);
        awaitOldPodsFollow(leader);
    }

    /** new-1 leads, new-2 and old-1, old-2 follow it. */
    private String newLeaderFollowedByOldPods() {
        step("start new-1");
        startNew("new-1");
        assertThat(awaitExactlyOneLeader()).isEqualTo("new-1");
        awaitConfigMapNames("new-1");
        step("start new-2, old-1, old-2");
        startNew("new-2");
        startOld("old-1");
        startOld("old-2");
        awaitOldPodsFollow("new-1");
        assertThat(onlyLeader()).isEqualTo("new-1");
        return "new-1";
    }

    // ---------------------------------------------------------------------------------------------------------
    // Pods

    private OldConfigMapPod startOld(String name) {
        createReadyPod(name);
        OldConfigMapPod pod = new OldConfigMapPod(server, name, ROLE, CONFIG_MAP, timeline);
        oldPods.put(name, pod);
        pod.start();
        return pod;
    }

    /**
     * The old version's context closes (scl revokes: a leader removes its entry), the process exits, then Kubernetes
     * removes the Pod. In between, the old pods still running settle on a leader (see {@link #awaitOldPodsLeave}).
     */
    private void stopOld(String name) {
        oldPods.remove(name).stop();
        awaitOldPodsLeave(name);
        podTerminated(name);
    }

    /** A pod of this version: the whole starter in a Spring Boot context, started once its Ready Pod exists. */
    private NewPod startNew(String name) {
        createReadyPod(name);
        // A client per context: spring-cloud-kubernetes closes it when the context closes.
        KubernetesClient client = server.createClient();
        NewPod pod = new NewPod(name, client);
        newPods.put(name, pod);
        pod.context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.main.cloud-platform=kubernetes",
                        "spring.application.name=" + APP,
                        "spring.main.banner-mode=off",
                        "leader.namespace=" + NAMESPACE,
                        "leader.identity=" + name,
                        "POD_NAME=" + name,
                        "leader.migration.config-map=true",
                        "spring.cloud.kubernetes.leader.role=" + ROLE,
                        "spring.cloud.kubernetes.leader.config-map-name=" + CONFIG_MAP,
                        "leader.lease-duration=3s",
                        "leader.renew-deadline=2s",
                        "leader.retry-period=1s",
                        "leader.drain-timeout=1s",
                        "leader.spread.enabled=false")
                .listeners(pod)
                .initializers(ctx -> ctx.getBeanFactory().registerSingleton("kubernetesClient", client))
                .run();
        return pod;
    }

    /**
     * The new version's context closes (it hands over: revoked, then released), the process exits, then Kubernetes
     * removes the Pod. If another new pod remains to take the released Lease (and so the ConfigMap), the old pods
     * follow it before the Pod turns not Ready (see {@link #awaitOldPodsLeave}).
     */
    private void stopNew(String name) {
        NewPod pod = newPods.remove(name);
        boolean wasLeader = pod.leader;
        pod.context.close();
        pod.client.close();
        if (wasLeader && !newPods.isEmpty()) {
            awaitOldPodsLeave(name);
        }
        podTerminated(name);
    }

    /**
     * Waits until no running old pod follows {@code name} any more. spring-cloud-kubernetes 3.3.0 deadlocks an old pod
     * whose leader's Pod changes readiness while the pod handles a change of the ConfigMap: the ConfigMap watcher's
     * thread holds the controller's lock and stops the leader's readiness watcher (its lock), the readiness watcher's
     * thread holds that lock and calls the controller's update (its lock); the pod then never updates or stops again.
     * A process exits some time after its context closed; the test lets the ConfigMap change settle first, so that
     * what it measures is the election, not that deadlock.
     */
    private void awaitOldPodsLeave(String name) {
        await("the old pods stop following " + name)
                .atMost(WAIT)
                .until(() -> oldPods.values().stream().noneMatch(p -> name.equals(p.follows())));
    }

    private void createReadyPod(String name) {
        Pod pod = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NAMESPACE)
                .addToLabels("app", APP)
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
        assertThat(admin.pods().withName(name).isReady())
                .as("%s's Pod is Ready", name)
                .isTrue();
    }

    private void setPodReady(String name, boolean ready) {
        Pod pod = admin.pods().withName(name).get();
        pod.getStatus().getConditions().stream()
                .filter(c -> "Ready".equals(c.getType()))
                .forEach(c -> c.setStatus(ready ? "True" : "False"));
        admin.pods().resource(pod).updateStatus();
        assertThat(admin.pods().withName(name).isReady()).isEqualTo(ready);
    }

    /**
     * What Kubernetes does once a pod's process has exited: the kubelet reports its container terminated (the Pod is
     * not Ready any more), then deletes the Pod object. The old pods rely on the first: they watch the leader's Pod for
     * a change of readiness, and the deletion alone shows none (its object is the last one, still Ready).
     */
    private void podTerminated(String name) {
        setPodReady(name, false);
        admin.pods().withName(name).delete();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views and waits

    /** The running pods whose user code was last told it leads. */
    private List<String> leaders() {
        List<String> leaders = new ArrayList<>();
        oldPods.values().stream().filter(OldConfigMapPod::isLeader).forEach(p -> leaders.add(p.name));
        newPods.values().stream().filter(p -> p.leader).forEach(p -> leaders.add(p.name));
        return leaders;
    }

    private String onlyLeader() {
        List<String> leaders = leaders();
        return leaders.size() == 1 ? leaders.get(0) : null;
    }

    private String awaitExactlyOneLeader() {
        await("exactly one leader").atMost(WAIT).until(this::leaders, leaders -> leaders.size() == 1);
        return leaders().get(0);
    }

    /** Exactly one leader, the same one, for {@link #SETTLE}. */
    private String awaitStableSingleLeader() {
        String leader = awaitExactlyOneLeader();
        await("only " + leader + " leads for " + SETTLE)
                .during(SETTLE)
                .atMost(WAIT)
                .until(() -> List.of(leader).equals(leaders()));
        return leader;
    }

    private void awaitOldPodsFollow(String leader) {
        await("the old pods follow " + leader)
                .atMost(WAIT)
                .until(() -> oldPods.values().stream().allMatch(p -> leader.equals(p.follows())));
    }

    private void awaitConfigMapNames(String leader) {
        await("the ConfigMap names " + leader).atMost(WAIT).until(() -> leader.equals(configMapEntry()));
    }

    private String configMapEntry() {
        ConfigMap configMap =
                admin.configMaps().inNamespace(NAMESPACE).withName(CONFIG_MAP).get();
        return configMap == null || configMap.getData() == null
                ? null
                : configMap.getData().get(KEY);
    }

    private void step(String label) {
        timeline.step(label);
        System.out.printf("[migration] %s%n", label);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The timeline

    private void assertNeverTwoLeaders() {
        assertThat(timeline.violations())
                .as("two leaders at once%n%s", timeline.report())
                .isEmpty();
    }

    /** One grant or revocation as a candidate's user code saw it, at {@code nanos} ({@link System#nanoTime()}). */
    record Transition(String candidate, boolean granted, long nanos) {}

    record Step(String label, long nanos) {}

    /** Every transition of every candidate, and the test's steps, in one order (one lock, times taken under it). */
    static final class Timeline implements OldConfigMapPod.Transitions {

        private final long start = System.nanoTime();
        private final List<Transition> transitions = new ArrayList<>();
        private final List<Step> steps = new ArrayList<>();

        @Override
        public synchronized void record(String candidate, boolean granted) {
            transitions.add(new Transition(candidate, granted, System.nanoTime()));
        }

        synchronized void step(String label) {
            steps.add(new Step(label, System.nanoTime()));
        }

        /** Every instant a candidate was granted while another led, or revoked while it did not lead. */
        synchronized List<String> violations() {
            List<String> violations = new ArrayList<>();
            String holder = null;
            for (Transition t : transitions) {
                if (t.granted()) {
                    if (holder != null) {
                        violations.add("%s granted at +%d ms while %s led".formatted(t.candidate(), ms(t), holder));
                    }
                    holder = t.candidate();
                } else if (t.candidate().equals(holder)) {
                    holder = null;
                } else {
                    violations.add("%s revoked at +%d ms while %s led".formatted(t.candidate(), ms(t), holder));
                }
            }
            return violations;
        }

        /** The timeline with the steps, and per hand-over who handed to whom and the leaderless time. */
        synchronized String report() {
            StringBuilder out = new StringBuilder("[migration] timeline:\n");
            List<Object> events = new ArrayList<>();
            int s = 0;
            for (Transition t : transitions) {
                while (s < steps.size() && steps.get(s).nanos() <= t.nanos()) {
                    events.add(steps.get(s++));
                }
                events.add(t);
            }
            events.addAll(steps.subList(s, steps.size()));
            for (Object event : events) {
                if (event instanceof Step step) {
                    out.append("  +%6d ms  -- %s%n".formatted(ms(step.nanos()), step.label()));
                } else if (event instanceof Transition t) {
                    out.append("  +%6d ms     %-6s %s%n"
                            .formatted(ms(t), t.candidate(), t.granted() ? "granted" : "revoked"));
                }
            }
            out.append("[migration] hand-overs:\n");
            String holder = null;
            Transition lastRevoke = null;
            for (Transition t : transitions) {
                if (!t.granted()) {
                    if (t.candidate().equals(holder)) {
                        holder = null;
                    }
                    lastRevoke = t;
                    continue;
                }
                String step = stepAt(t.nanos());
                if (holder != null) {
                    out.append("  %-36s TWO LEADERS: %s granted at +%d ms while %s led%n"
                            .formatted(step, t.candidate(), ms(t), holder));
                } else if (lastRevoke == null) {
                    out.append("  %-36s (none) -> %-6s first leader, +%d ms after the test started%n"
                            .formatted(step, t.candidate(), ms(t)));
                } else {
                    out.append("  %-36s %-6s -> %-6s leaderless %5d ms%n"
                            .formatted(
                                    step,
                                    lastRevoke.candidate(),
                                    t.candidate(),
                                    (t.nanos() - lastRevoke.nanos()) / 1_000_000));
                }
                holder = t.candidate();
            }
            return out.toString();
        }

        private String stepAt(long nanos) {
            String label = "";
            for (Step step : steps) {
                if (step.nanos() <= nanos) {
                    label = step.label();
                }
            }
            return label;
        }

        private long ms(Transition t) {
            return ms(t.nanos());
        }

        private long ms(long nanos) {
            return (nanos - start) / 1_000_000;
        }
    }

    /** A pod of this version: its context, its client, and what its user code was told (the Spring events). */
    final class NewPod implements ApplicationListener<ApplicationEvent> {
        final String name;
        final KubernetesClient client;
        ConfigurableApplicationContext context;
        volatile boolean leader;

        NewPod(String name, KubernetesClient client) {
            this.name = name;
            this.client = client;
        }

        @Override
        public void onApplicationEvent(ApplicationEvent event) {
            if (event instanceof OnGrantedEvent) {
                leader = true;
                timeline.record(name, true);
            } else if (event instanceof OnRevokedEvent) {
                leader = false;
                timeline.record(name, false);
            }
        }

        LeaseElector elector() {
            return context.getBean(LeaseElector.class);
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {}
}
