package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.kubernetes.KubernetesPresenceStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Kubernetes Lease store and the presence of the candidates beside it, on the application's {@link KubernetesClient}
 * when it has one.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnLeaseStore(StoreType.KUBERNETES)
class KubernetesLeaseStoreConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(KubernetesClient.class)
    static class KubernetesClientAvailable {

        /** A client from the standard fabric8 configuration, when neither the user nor spring-cloud-kubernetes has one. */
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean({KubernetesClient.class, LeaseStore.class})
        OwnedKubernetesClient leaderKubernetesClient() {
            return new OwnedKubernetesClient(new KubernetesClientBuilder().build());
        }

        /**
         * The presence of this application's candidates (docs/design.md, "Presence"), beside its Leases: same client,
         * same namespace. Declared before the lease store, so that its condition sees only a {@link LeaseStore} of the
         * application's own: with one, elections live where that store keeps them, and presence backs off as the
         * client above does.
         */
        @Bean
        @ConditionalOnMissingBean({PresenceStore.class, LeaseStore.class})
        KubernetesPresenceStore kubernetesPresenceStore(
                LeaderProperties properties,
                ElectionSettings settings,
                ObjectProvider<KubernetesClient> clients,
                ObjectProvider<OwnedKubernetesClient> ownedClient) {
            KubernetesClient client = client(clients, ownedClient);
            return new KubernetesPresenceStore(
                    client, namespace(properties, client), settings.leaseName(), settings.requestTimeout());
        }

        @Bean
        @ConditionalOnMissingBean(LeaseStore.class)
        KubernetesLeaseStore kubernetesLeaseStore(
                LeaderProperties properties,
                ElectionSettings settings,
                ObjectProvider<KubernetesClient> clients,
                ObjectProvider<OwnedKubernetesClient> ownedClient) {
            KubernetesClient client = client(clients, ownedClient);
            return new KubernetesLeaseStore(client, namespace(properties, client), settings.requestTimeout());
        }

        private static KubernetesClient client(
                ObjectProvider<KubernetesClient> clients, ObjectProvider<OwnedKubernetesClient> ownedClient) {
            return clients.getIfUnique(() -> ownedClient.getObject().client());
        }

        private static String namespace(LeaderProperties properties, KubernetesClient client) {
            String namespace = properties.getNamespace();
            if (namespace == null || namespace.isBlank()) {
                namespace = client.getNamespace();
            }
            if (namespace == null || namespace.isBlank()) {
                throw new LeaderConfigurationException(
                        "leader.namespace",
                        null,
                        "No namespace was found in the pod's service account or the Kubernetes client configuration"
                                + " either, and the Lease needs one",
                        "Set leader.namespace to the namespace of the Lease; on Kubernetes, from the downward API: an"
                                + " environment variable LEADER_NAMESPACE with fieldRef metadata.namespace.");
            }
            return namespace;
        }
    }

    /** {@code leader.store=kubernetes} without the Kubernetes client on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingClass("io.fabric8.kubernetes.client.KubernetesClient")
    static class KubernetesClientMissing {

        @Bean
        @ConditionalOnMissingBean(LeaseStore.class)
        LeaseStore kubernetesLeaseStore() {
            throw new LeaderConfigurationException(
                    "leader.store",
                    "kubernetes",
                    "needs io.fabric8:kubernetes-client on the class path",
                    "Add dev.leaderpod:leader-starter (it brings the client) or io.fabric8:kubernetes-client to the"
                            + " application's dependencies, or set leader.store to local.");
        }
    }
}
