package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.store.kubernetes.LeaseEventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Kubernetes Events of every leadership transition, on the Kubernetes store ({@code leader.kubernetes.events.enabled},
 * on by default): a listener for the default election and, through an {@link ElectionListenerFactory}, one for each
 * named election, each on its own Lease; all post through one {@link LeaseEventRecorder} on the application's
 * {@link KubernetesClient}. Wired as the pod labeler is ({@link LeaderPodLabelAutoConfiguration}).
 */
@AutoConfiguration(after = LeaderElectionAutoConfiguration.class)
@ConditionalOnClass(KubernetesClient.class)
@ConditionalOnProperty(prefix = "leader.kubernetes.events", name = "enabled", matchIfMissing = true)
@ConditionalOnLeaseStore(StoreType.KUBERNETES)
@ConditionalOnBean(LeaseElector.class)
@Conditional(KubernetesEventsAutoConfiguration.ClientAvailable.class)
public class KubernetesEventsAutoConfiguration {

    /** Posts the events of every election; needs {@code create} on {@code events} in the Lease's namespace. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    LeaseEventRecorder leaderLeaseEventRecorder(
            LeaderProperties properties,
            ElectionSettings settings,
            ObjectProvider<KubernetesClient> clients,
            ObjectProvider<OwnedKubernetesClient> ownedClient) {
        KubernetesClient client =
                clients.getIfUnique(() -> ownedClient.getObject().client());
        // The Lease's namespace, found as the store finds it.
        String namespace = properties.getNamespace();
        if (namespace == null || namespace.isBlank()) {
            namespace = client.getNamespace();
        }
        if (namespace == null || namespace.isBlank()) {
            throw new LeaderConfigurationException(
                    "leader.namespace",
                    null,
                    "No namespace was found in the pod's service account or the Kubernetes client configuration"
                            + " either, and the Kubernetes Events of the Lease need one",
                    "Set leader.namespace to the namespace of the Lease, or set leader.kubernetes.events.enabled to"
                            + " false.");
        }
        return new LeaseEventRecorder(client, namespace, settings.requestTimeout());
    }

    /** The events of the default election. */
    @Bean
    @ConditionalOnMissingBean(name = "leaderLeaseEventsListener")
    LeadershipListener leaderLeaseEventsListener(LeaseEventRecorder recorder, ElectionSettings settings) {
        return recorder.listener(settings.leaseName(), settings.identity());
    }

    /** The events of each named election, on its own Lease. */
    @Bean
    @ConditionalOnMissingBean(name = "leaderLeaseEventsListenerFactory")
    ElectionListenerFactory leaderLeaseEventsListenerFactory(LeaseEventRecorder recorder) {
        return (name, elector) -> recorder.listener(elector.leaseName(), elector.identity());
    }

    /** A Kubernetes client to post through: the application's, or the one the Kubernetes store configuration made. */
    static class ClientAvailable extends AnyNestedCondition {

        ClientAvailable() {
            super(ConfigurationPhase.REGISTER_BEAN);
        }

        @ConditionalOnBean(KubernetesClient.class)
        static class ApplicationClient {}

        @ConditionalOnBean(OwnedKubernetesClient.class)
        static class OwnedClient {}
    }
}
