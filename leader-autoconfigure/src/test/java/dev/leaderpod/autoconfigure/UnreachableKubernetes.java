package dev.leaderpod.autoconfigure;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * Kubernetes clients of an API server nobody listens on (port 9): every call fails at once, without retries. For
 * auto-configuration tests that look at the beans, not at what the elector's calls answer.
 */
final class UnreachableKubernetes {

    private UnreachableKubernetes() {}

    /** A client whose namespace is {@code client-ns}. */
    static KubernetesClient client() {
        return client("client-ns");
    }

    /** A client whose namespace is {@code namespace} (null: none configured). */
    static KubernetesClient client(String namespace) {
        return new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(Config.empty())
                        .withMasterUrl("http://127.0.0.1:9")
                        .withNamespace(namespace)
                        .withRequestRetryBackoffLimit(0)
                        .build())
                .build();
    }
}
