package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.kubernetes.ConfigMapLeaderRecord;
import dev.leaderpod.store.kubernetes.ConfigMapMigration;
import dev.leaderpod.store.kubernetes.KubernetesLeaseStore;
import dev.leaderpod.store.kubernetes.KubernetesPresenceStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

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
            // The default lease name is the group of every election of the application: one watch for all.
            return new KubernetesLeaseStore(
                    client, namespace(properties, client), settings.leaseName(), settings.requestTimeout());
        }

        /**
         * Migration from spring-cloud-kubernetes' ConfigMap leader (docs/design.md, "Migration from the ConfigMap
         * leader"), configured from that project's own {@code spring.cloud.kubernetes.leader.*} properties.
         */
        @Bean(destroyMethod = "close")
        @ConditionalOnProperty(prefix = "leader.migration", name = "config-map", havingValue = "true")
        ElectionMigration leaderConfigMapMigration(
                ElectionSettings settings,
                ElectionRuntime runtime,
                Environment environment,
                ObjectProvider<KubernetesClient> clients,
                ObjectProvider<OwnedKubernetesClient> ownedClient) {
            KubernetesClient client = client(clients, ownedClient);
            String prefix = "spring.cloud.kubernetes.leader.";
            if (environment.getProperty(prefix + "enabled", Boolean.class, false)) {
                throw new LeaderConfigurationException(
                        prefix + "enabled",
                        true,
                        "runs spring-cloud-kubernetes' own ConfigMap election in this application as well, while"
                                + " leader.migration.config-map=true has this starter's election respect it",
                        "Remove spring.cloud.kubernetes.leader.enabled (or set it to false): during the migration"
                                + " only the pods of the old version run that election.");
            }
            String role = environment.getProperty(prefix + "role");
            if (role == null || role.isBlank()) {
                throw new LeaderConfigurationException(
                        prefix + "role",
                        role,
                        "is needed by leader.migration.config-map=true: it is the role the old version's pods elect,"
                                + " whose leader the ConfigMap names",
                        "Set spring.cloud.kubernetes.leader.role to the value the old version's pods use (and"
                                + " config-map-name, leader-id-prefix and namespace if they changed them).");
            }
            String pod = PodEnvironment.podName(environment);
            if (pod == null) {
                throw new LeaderConfigurationException(
                        "leader.migration.config-map",
                        true,
                        "needs the pod's name, which the old pods look up to follow this one, and neither the"
                                + " environment variable POD_NAME nor HOSTNAME is set",
                        "Set the environment variable POD_NAME from the downward API (fieldRef metadata.name).");
            }
            String namespace = client.getNamespace();
            if (namespace == null || namespace.isBlank()) {
                throw new LeaderConfigurationException(
                        "leader.migration.config-map",
                        true,
                        "needs the namespace of the pods, and the Kubernetes client configuration has none",
                        "Run in a pod (its service account gives the namespace) or configure the client's namespace.");
            }
            ConfigMapLeaderRecord record = new ConfigMapLeaderRecord(
                    PodEnvironment.firstNonBlank(environment.getProperty(prefix + "namespace"), namespace),
                    environment.getProperty(prefix + "config-map-name", "leaders"),
                    role,
                    environment.getProperty(prefix + "leader-id-prefix", "leader.id."),
                    environment.getProperty(prefix + "create-config-map", Boolean.class, true));
            ConfigMapMigration migration = new ConfigMapMigration(
                    client,
                    record,
                    namespace,
                    pod,
                    settings.identity(),
                    runtime,
                    settings.retryPeriod(),
                    settings.leaseDuration(),
                    settings.requestTimeout());
            return new ElectionMigration() {
                @Override
                public Candidacy candidacy(Candidacy candidacy) {
                    return migration.candidacy(candidacy);
                }

                @Override
                public LeaseStore store(LeaseStore store) {
                    return migration.store(store);
                }

                @Override
                public void start(LeaseElector elector) {
                    migration.start(elector::standingChanged);
                }

                @Override
                public void close() {
                    migration.close();
                }
            };
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
