package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The requests of a {@link ConfigMapMigration}: read and compare-and-set spring-cloud-kubernetes' ConfigMap leader
 * record, read a pod, and watch both. Reads and writes are one bounded request each through the application client's
 * HTTP client, as the Lease store's are; watches are the client's own, which reconnect by themselves and only make the
 * migration react sooner.
 */
final class ConfigMapLeaders {

    /** The Role rules a migration needs, besides the Lease store's. */
    static final String CONFIG_MAP_RULE =
            "apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"get\", \"create\", \"update\", \"watch\"]";

    static final String POD_RULE = "apiGroups: [\"\"], resources: [\"pods\"], verbs: [\"get\", \"watch\"]";

    private static final String JSON = "application/json";

    /** What a read found: the ConfigMap (null if there is none), and what the role's keys say. */
    record Entry(ConfigMap configMap, String leaderPod, String holder, String holderUid) {

        static Entry of(ConfigMap configMap, ConfigMapLeaderRecord record) {
            Map<String, String> data = configMap == null ? null : configMap.getData();
            String leader = data == null ? null : data.get(record.leaderKey());
            String holder = data == null ? null : data.get(record.holderKey());
            String uid = data == null ? null : data.get(record.holderUidKey());
            return new Entry(configMap, leader == null || leader.isBlank() ? null : leader, holder, uid);
        }

        boolean exists() {
            return configMap != null;
        }

        /**
         * Whether one of our candidates wrote the entry on the pod it names: our key names that pod, and, if it has a
         * uid, that pod's uid is {@code podUid} (a pod recreated under the same name is another).
         */
        boolean writtenByUs(String podUid) {
            return leaderPod != null
                    && holder != null
                    && holder.startsWith(leaderPod + "/")
                    && (holderUid == null || holderUid.equals(podUid));
        }

        /** Whether the entry names {@code pod}, written by our candidate {@code identity}. */
        boolean names(String pod, String identity) {
            return pod.equals(leaderPod) && (pod + "/" + identity).equals(holder);
        }
    }

    /** What a pod's object says of the process in it, and the pod's uid (null when absent). */
    record PodState(Phase phase, String uid) {

        static final PodState GONE = new PodState(Phase.ABSENT, null);

        /** Whether its process may be running, Ready or not. */
        boolean running() {
            return phase == Phase.READY || phase == Phase.NOT_READY;
        }
    }

    enum Phase {
        /** No such pod: its process has ended (Kubernetes removes the object once its containers have stopped). */
        ABSENT,
        /** The pod's containers have all ended for good (phase Succeeded or Failed). */
        FINISHED,
        /** Running, its Ready condition not True. */
        NOT_READY,
        /** Running and Ready: the old pods follow a leader on it. */
        READY
    }

    private final KubernetesClient client;
    private final KubernetesSerialization serialization;
    private final ConfigMapLeaderRecord record;
    private final String podNamespace;
    private final BoundedHttp configMaps;
    private final BoundedHttp pods;
    private final KubernetesFailures configMapFailures;
    private final KubernetesFailures podFailures;
    private final String configMapsUrl;
    private final String podsUrl;

    ConfigMapLeaders(
            KubernetesClient client, ConfigMapLeaderRecord record, String podNamespace, Duration requestTimeout) {
        this.client = client;
        this.serialization = client.getKubernetesSerialization();
        this.record = record;
        this.podNamespace = podNamespace;
        String apiServer = client.getMasterUrl().toString();
        this.configMapFailures =
                new KubernetesFailures(serialization, record.namespace(), CONFIG_MAP_RULE, apiServer, requestTimeout);
        this.podFailures = new KubernetesFailures(serialization, podNamespace, POD_RULE, apiServer, requestTimeout);
        this.configMaps = BoundedHttp.derivedFrom(client, requestTimeout, configMapFailures);
        this.pods = BoundedHttp.derivedFrom(client, requestTimeout, podFailures);
        String base = apiServer.endsWith("/") ? apiServer : apiServer + "/";
        this.configMapsUrl = base + "api/v1/namespaces/" + encode(record.namespace()) + "/configmaps";
        this.podsUrl = base + "api/v1/namespaces/" + encode(podNamespace) + "/pods/";
    }

    ConfigMapLeaderRecord record() {
        return record;
    }

    /** The record as it is now. */
    Entry read() {
        Reply reply = configMaps.send(
                configMaps.request(configMapsUrl + "/" + encode(record.name())).build(), record.describe(), "get");
        if (reply.code() == 404) {
            return Entry.of(null, record);
        }
        if (reply.code() != 200) {
            throw configMapFailures.rejected(record.describe(), "get", reply.code(), reply.body());
        }
        return Entry.of(unmarshal(reply, ConfigMap.class, "get"), record);
    }

    /**
     * Writes {@code pod} (and {@code identity} in our key) as the leader, only on top of {@code base}: a PUT with its
     * {@code resourceVersion}, or a create if there was no ConfigMap, labelled as the old pods label theirs. Other keys,
     * such as other roles' leaders, are kept.
     *
     * @throws LeaseConflictException somebody wrote the ConfigMap since {@code base} (or created it)
     */
    Entry claim(Entry base, String pod, String podUid, String identity) {
        ConfigMapBuilder builder = base.exists()
                ? new ConfigMapBuilder(base.configMap())
                : new ConfigMapBuilder()
                        .withNewMetadata()
                        .withName(record.name())
                        .withNamespace(record.namespace())
                        .addToLabels("provider", "spring-cloud-kubernetes")
                        .addToLabels("kind", "leaders")
                        .endMetadata();
        ConfigMap claimed = builder.addToData(record.leaderKey(), pod)
                .addToData(record.holderKey(), pod + "/" + identity)
                .addToData(record.holderUidKey(), podUid)
                .build();
        String verb = base.exists() ? "update" : "create";
        var request = configMaps.request(base.exists() ? configMapsUrl + "/" + encode(record.name()) : configMapsUrl);
        String json = serialization.asJson(claimed);
        Reply reply = configMaps.send(
                (base.exists() ? request.put(JSON, json) : request.post(JSON, json)).build(), record.describe(), verb);
        if (reply.code() == 409 || (base.exists() && reply.code() == 404)) {
            throw new LeaseConflictException(record.describe() + " changed since it was read", null);
        }
        if (reply.code() != 200 && reply.code() != 201) {
            throw configMapFailures.rejected(record.describe(), verb, reply.code(), reply.body());
        }
        return Entry.of(unmarshal(reply, ConfigMap.class, verb), record);
    }

    /** What the object of the pod {@code name} says. */
    PodState pod(String name) {
        String subject = "Pod " + podNamespace + "/" + name;
        Reply reply = pods.send(pods.request(podsUrl + encode(name)).build(), subject, "get");
        if (reply.code() == 404) {
            return PodState.GONE;
        }
        if (reply.code() != 200) {
            throw podFailures.rejected(subject, "get", reply.code(), reply.body());
        }
        Pod pod = unmarshal(reply, Pod.class, "get");
        String uid = pod.getMetadata() == null ? null : pod.getMetadata().getUid();
        PodStatus status = pod.getStatus();
        String phase = status == null ? null : status.getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            return new PodState(Phase.FINISHED, uid);
        }
        boolean ready = status != null
                && status.getConditions() != null
                && status.getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        return new PodState(ready ? Phase.READY : Phase.NOT_READY, uid);
    }

    /**
     * Watches the ConfigMap: {@code onEvent} runs on a thread of the client's after any change, {@code onClose} once the
     * client has given the watch up.
     */
    Watch watchConfigMap(Runnable onEvent, Runnable onClose) {
        return client.configMaps()
                .inNamespace(record.namespace())
                .withName(record.name())
                .watch(new Nudge<>(onEvent, onClose));
    }

    /** Watches the pod {@code name}, as {@link #watchConfigMap} does the ConfigMap. */
    Watch watchPod(String name, Runnable onEvent, Runnable onClose) {
        return client.pods().inNamespace(podNamespace).withName(name).watch(new Nudge<>(onEvent, onClose));
    }

    /** Refuses further requests; the client stays the application's. */
    void close() {
        configMaps.close();
        pods.close();
    }

    private <T> T unmarshal(Reply reply, Class<T> type, String verb) {
        try {
            return serialization.unmarshal(reply.body(), type);
        } catch (RuntimeException e) {
            throw new LeaseStoreException(
                    Kind.OTHER,
                    record.describe() + ": " + verb + " got an unreadable answer (" + e.getMessage() + ")",
                    e);
        }
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A watcher that only says something happened: the migration reads what. */
    private record Nudge<T>(Runnable onEvent, Runnable onGivenUp) implements Watcher<T> {

        @Override
        public void eventReceived(Action action, T resource) {
            onEvent.run();
        }

        @Override
        public void onClose(WatcherException cause) {
            onGivenUp.run();
        }
    }
}
