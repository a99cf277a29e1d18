package dev.leaderpod.autoconfigure;

import io.fabric8.kubernetes.client.KubernetesClient;

/** A Kubernetes client this starter created, when the application has none, and therefore closes. */
record OwnedKubernetesClient(KubernetesClient client) implements AutoCloseable {

    @Override
    public void close() {
        client.close();
    }
}
