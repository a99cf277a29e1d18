package dev.leaderpod.benchmarks.contenders;

import dev.leaderpod.benchmarks.support.MockApiServer;

/** The implementations compared. */
public enum Contender {
    OURS("Leader Election Pod", "ours"),
    FABRIC8("fabric8 LeaderElector + LeaseLock (as spring-cloud-kubernetes 5.0)", "fabric8"),
    CONFIG_MAP("spring-cloud-kubernetes-fabric8-leader 3.3.0 (ConfigMap)", "sck-configmap");

    private final String title;
    private final String slug;

    Contender(String title, String slug) {
        this.title = title;
        this.slug = slug;
    }

    public String title() {
        return title;
    }

    /** Short lower-case name, usable in Kubernetes names. */
    public String slug() {
        return slug;
    }

    /** A candidate at default timings (the ConfigMap leader has no lease timings). */
    public Candidate create(
            MockApiServer server,
            String namespace,
            String election,
            String identity,
            Timings timings,
            ElectionLog log) {
        return switch (this) {
            case OURS -> new OurCandidate(server, namespace, election, identity, timings, log);
            case FABRIC8 -> new Fabric8Candidate(server, namespace, election, identity, timings, log);
            case CONFIG_MAP -> new ConfigMapCandidate(server, namespace, election, identity, log);
        };
    }
}
