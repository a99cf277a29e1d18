package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.ElectionSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** Settings of the leader election, under {@code leader.*}. */
@ConfigurationProperties(prefix = "leader")
public class LeaderProperties {

    /**
     * Whether this application takes part in a leader election. Off: this instance is the only candidate and leads
     * from start to shutdown, on an in-memory lease of its own; every API works as on a leader.
     */
    private boolean enabled = true;

    /**
     * Where the lease is kept: 'kubernetes' (a coordination.k8s.io/v1 Lease), 'local' (a file shared by the
     * processes of this machine), or 'auto' (kubernetes when running on Kubernetes, else local).
     */
    private StoreType store = StoreType.AUTO;

    /**
     * Name of the lease, one per election; a valid Kubernetes object name. Defaults to one derived from
     * spring.application.name: lower-cased, other characters than a-z, 0-9, '-' and '.' replaced by '-', at most 63
     * characters.
     */
    private String leaseName;

    /** Namespace of the Lease. Defaults to the pod's own namespace (or the client configuration's). */
    private String namespace;

    /** Identity of this candidate. Defaults to the host (pod) name plus a random suffix. */
    private String identity;

    /** How long followers wait, after they last saw the lease change, before taking over. Whole seconds. */
    private Duration leaseDuration = ElectionSettings.DEFAULT_LEASE_DURATION;

    /** How long the leader keeps leading after its last successful renew; shorter than the lease duration. */
    private Duration renewDeadline = ElectionSettings.DEFAULT_RENEW_DEADLINE;

    /** How often the leader renews and polling followers retry. */
    private Duration retryPeriod = ElectionSettings.DEFAULT_RETRY_PERIOD;

    /** Upper bound of one call to the lease store. Defaults to half the renew deadline, its maximum. */
    private Duration requestTimeout;

    /** Whether to watch the lease, so followers react to a release within milliseconds and need not poll. */
    private boolean watch = true;

    /**
     * Whether leadership follows the application's readiness (Spring Boot's ReadinessState): while it refuses traffic
     * (starting, warming up, or, in a web application, shutting down) this instance takes no leadership, and a leader hands leadership
     * over (drain, release) and stays out until it accepts traffic again. Off: readiness plays no part. Has no effect
     * with leader.enabled=false.
     */
    private boolean followReadiness = true;

    /**
     * Whether candidates of other applications (another spring.application.name) may share this election's lease.
     * Off by default: a lease that names another application is refused with an error naming both.
     */
    private boolean allowOtherApplications;

    /**
     * How long the end of a term (revocation or shutdown) waits for @LeaderOnly lifecycle beans to stop and for
     * running @LeaderOnly calls to return, before OnRevokedEvent is published and, on shutdown, the lease released.
     */
    private Duration drainTimeout = Duration.ofSeconds(10);

    /**
     * Named elections, by name (lower-case letters, digits and '-'), each on its own lease '<lease-name>-<name>'.
     * Keys of each: 'enabled' (whether this instance takes part, default true), and 'lease-duration',
     * 'renew-deadline', 'retry-period' and 'request-timeout', each defaulting to the leader.* property of the same
     * name. @LeaderOnly("name") takes part in one; an election named here runs even if no annotation names it.
     */
    private final Map<String, Election> elections = new LinkedHashMap<>();

    private final Spread spread = new Spread();

    private final Local local = new Local();

    private final Kubernetes kubernetes = new Kubernetes();

    private final Migration migration = new Migration();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public StoreType getStore() {
        return store;
    }

    public void setStore(StoreType store) {
        this.store = store;
    }

    public String getLeaseName() {
        return leaseName;
    }

    public void setLeaseName(String leaseName) {
        this.leaseName = leaseName;
    }

    public String getNamespace() {
        return namespace;
    }

    public void setNamespace(String namespace) {
        this.namespace = namespace;
    }

    public String getIdentity() {
        return identity;
    }

    public void setIdentity(String identity) {
        this.identity = identity;
    }

    public Duration getLeaseDuration() {
        return leaseDuration;
    }

    public void setLeaseDuration(Duration leaseDuration) {
        this.leaseDuration = leaseDuration;
    }

    public Duration getRenewDeadline() {
        return renewDeadline;
    }

    public void setRenewDeadline(Duration renewDeadline) {
        this.renewDeadline = renewDeadline;
    }

    public Duration getRetryPeriod() {
        return retryPeriod;
    }

    public void setRetryPeriod(Duration retryPeriod) {
        this.retryPeriod = retryPeriod;
    }

    public Duration getRequestTimeout() {
        return requestTimeout;
    }

    public void setRequestTimeout(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    public boolean isAllowOtherApplications() {
        return allowOtherApplications;
    }

    public void setAllowOtherApplications(boolean allowOtherApplications) {
        this.allowOtherApplications = allowOtherApplications;
    }

    public boolean isFollowReadiness() {
        return followReadiness;
    }

    public void setFollowReadiness(boolean followReadiness) {
        this.followReadiness = followReadiness;
    }

    public boolean isWatch() {
        return watch;
    }

    public void setWatch(boolean watch) {
        this.watch = watch;
    }

    public Duration getDrainTimeout() {
        return drainTimeout;
    }

    public void setDrainTimeout(Duration drainTimeout) {
        this.drainTimeout = drainTimeout;
    }

    public Map<String, Election> getElections() {
        return elections;
    }

    public Spread getSpread() {
        return spread;
    }

    public Local getLocal() {
        return local;
    }

    public Kubernetes getKubernetes() {
        return kubernetes;
    }

    public Migration getMigration() {
        return migration;
    }

    /** Where the lease is kept. */
    public enum StoreType {
        /** Kubernetes when Spring Boot detects the Kubernetes cloud platform, else local. */
        AUTO,
        /** A coordination.k8s.io/v1 Lease. */
        KUBERNETES,
        /** A lease file shared by the processes of this machine. */
        LOCAL
    }

    /** Settings of one named election; a timing left unset is the default election's (leader.*). */
    public static class Election {

        /**
         * Whether this instance takes part in the election. Off: its @LeaderOnly calls are skipped as a follower's
         * and its @LeaderOnly lifecycle beans never start.
         */
        private boolean enabled = true;

        /** How long followers wait, after they last saw the lease change, before taking over. Whole seconds. */
        private Duration leaseDuration;

        /** How long the leader keeps leading after its last successful renew; shorter than the lease duration. */
        private Duration renewDeadline;

        /** How often the leader renews and polling followers retry. */
        private Duration retryPeriod;

        /**
         * Upper bound of one call to the lease store. Defaults to leader.request-timeout if that is set, else to half
         * this election's renew deadline.
         */
        private Duration requestTimeout;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Duration getLeaseDuration() {
            return leaseDuration;
        }

        public void setLeaseDuration(Duration leaseDuration) {
            this.leaseDuration = leaseDuration;
        }

        public Duration getRenewDeadline() {
            return renewDeadline;
        }

        public void setRenewDeadline(Duration renewDeadline) {
            this.renewDeadline = renewDeadline;
        }

        public Duration getRetryPeriod() {
            return retryPeriod;
        }

        public void setRetryPeriod(Duration retryPeriod) {
            this.retryPeriod = retryPeriod;
        }

        public Duration getRequestTimeout() {
            return requestTimeout;
        }

        public void setRequestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
        }
    }

    /**
     * Spreading the elections over the live candidates, so that each leads its fair share of them. Applies when this
     * instance takes part in two elections or more.
     */
    public static class Spread {

        /**
         * Whether each live candidate leads only its fair share of the elections, ⌊E/N⌋ or ⌈E/N⌉, handing the others
         * over gracefully. Off: whoever comes first leads, as with one election.
         */
        private boolean enabled = true;

        /**
         * How often a candidate announces that it is alive; a candidate whose announcement did not change for three
         * intervals counts as gone. Each announcement is one write to the store.
         */
        private Duration presenceInterval = Duration.ofSeconds(30);

        /** What this candidate tells the others about itself (for example its version); shown by the actuator. */
        private final Map<String, String> metadata = new LinkedHashMap<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Duration getPresenceInterval() {
            return presenceInterval;
        }

        public void setPresenceInterval(Duration presenceInterval) {
            this.presenceInterval = presenceInterval;
        }

        public Map<String, String> getMetadata() {
            return metadata;
        }
    }

    /** Moving an application from another leader election to this one without ever having two leaders. */
    public static class Migration {

        /**
         * Whether the default election also respects and holds spring-cloud-kubernetes' ConfigMap leader record, as
         * that project's 'spring.cloud.kubernetes.leader.*' properties configure it (the role is required): during a
         * rolling upgrade from it, this candidate does not lead while the ConfigMap names an old pod that still
         * exists, and while it leads the ConfigMap names its pod (POD_NAME or HOSTNAME), so the old pods follow it.
         * Kubernetes store only; needs get, create, update and watch on configmaps and get and watch on pods. Remove it
         * once no pod of the old version runs.
         */
        private boolean configMap;

        public boolean isConfigMap() {
            return configMap;
        }

        public void setConfigMap(boolean configMap) {
            this.configMap = configMap;
        }
    }

    /** Settings of the local (file) store. */
    public static class Local {

        /** Directory holding one file per lease; shared by the processes that elect among themselves. */
        private Path directory = Path.of(System.getProperty("java.io.tmpdir"), "leaderpod-leases");

        public Path getDirectory() {
            return directory;
        }

        public void setDirectory(Path directory) {
            this.directory = directory;
        }
    }

    /** Settings that apply only to the Kubernetes store. */
    public static class Kubernetes {

        /**
         * Whether the leader labels its own pod 'leaderpod.dev/leader=true' while it leads, so that a Service
         * selecting the label routes to the leader only. Needs 'patch' on pods; the pod name comes from POD_NAME
         * or HOSTNAME.
         */
        private boolean labelPod;

        private final Events events = new Events();

        public boolean isLabelPod() {
            return labelPod;
        }

        public void setLabelPod(boolean labelPod) {
            this.labelPod = labelPod;
        }

        public Events getEvents() {
            return events;
        }
    }

    /** Kubernetes Events of leadership transitions, on the election's Lease. */
    public static class Events {

        /**
         * Whether every leadership transition is recorded as a Kubernetes Event on the election's Lease (reason
         * 'LeaderElection'), shown by 'kubectl describe lease' and 'kubectl get events'. Needs 'create' on events.
         */
        private boolean enabled = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
