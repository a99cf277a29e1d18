package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.store.kubernetes.LeaderPodLabeler;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Leader routing: with {@code leader.kubernetes.label-pod=true} on the Kubernetes store, the leader labels its own
 * pod {@code leaderpod.dev/leader=true} while it leads.
 */
@AutoConfiguration(after = LeaderElectionAutoConfiguration.class)
@ConditionalOnClass(KubernetesClient.class)
@ConditionalOnProperty(prefix = "leader.kubernetes", name = "label-pod", havingValue = "true")
@ConditionalOnLeaseStore(StoreType.KUBERNETES)
@ConditionalOnBean(LeaseElector.class)
public class LeaderPodLabelAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    LeaderPodLabeler leaderPodLabeler(
            LeaderProperties properties,
            Environment environment,
            LeaseElector elector,
            ObjectProvider<KubernetesClient> clients,
            ObjectProvider<OwnedKubernetesClient> ownedClient) {
        KubernetesClient client = clients.getIfUnique(() -> {
            OwnedKubernetesClient owned = ownedClient.getIfAvailable();
            return owned == null ? null : owned.client();
        });
        Config config = client != null ? client.getConfiguration() : Config.autoConfigure(null);
        String podName = PodEnvironment.podName(environment);
        if (podName == null) {
            throw new LeaderConfigurationException(
                    "leader.kubernetes.label-pod",
                    true,
                    "needs the pod's name, and neither the environment variable POD_NAME nor HOSTNAME is set",
                    "Set the environment variable POD_NAME from the downward API (fieldRef metadata.name), or set"
                            + " leader.kubernetes.label-pod to false.");
        }
        // The pod lives in its own namespace, which is normally the Lease's too.
        String namespace = PodEnvironment.firstNonBlank(
                environment.getProperty("POD_NAMESPACE"), properties.getNamespace(), config.getNamespace());
        if (namespace == null) {
            throw new LeaderConfigurationException(
                    "leader.kubernetes.label-pod",
                    true,
                    "needs the pod's namespace, and neither the environment variable POD_NAMESPACE, leader.namespace"
                            + " nor the Kubernetes client configuration gives one",
                    "Set the environment variable POD_NAMESPACE from the downward API (fieldRef metadata.namespace),"
                            + " or set leader.kubernetes.label-pod to false.");
        }
        // Through the application's client when there is one, so the labeler starts no HTTP stack of its own.
        return client != null
                ? new LeaderPodLabeler(
                        client,
                        namespace,
                        podName,
                        elector.identity(),
                        elector.settings().requestTimeout())
                : new LeaderPodLabeler(
                        config,
                        namespace,
                        podName,
                        elector.identity(),
                        elector.settings().requestTimeout());
    }
}
