package dev.leaderpod.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.store.kubernetes.LeaderPodLabeler;
import dev.leaderpod.store.kubernetes.LeaseEventRecorder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * A test whose configuration would pick the Kubernetes store — {@code leader.store=kubernetes}, or {@code auto} in a
 * CI pod — with a Kubernetes client at hand: the kit's lease is the store all the same, and nothing of what the starter
 * does beside a Kubernetes store (Kubernetes Events on the Lease, the pod label) is made to reach a cluster.
 */
@SpringBootTest(
        classes = {KitTestApplication.class, KubernetesStaysOutTest.Client.class},
        properties = {
            "spring.application.name=kit-app",
            "leader.store=kubernetes",
            "leader.namespace=tests",
            "leader.kubernetes.label-pod=true",
            "POD_NAME=test-pod"
        })
class KubernetesStaysOutTest {

    @Autowired
    ApplicationContext context;

    @Autowired
    Environment environment;

    @Autowired
    TestLeadership leadership;

    @Test
    void noEventsNoPodLabelAndTheKitsLease() {
        assertThat(context.getBeanNamesForType(LeaseEventRecorder.class)).isEmpty();
        assertThat(context.getBeanNamesForType(LeaderPodLabeler.class)).isEmpty();
        assertThat(context.getBean(LeaseStore.class)).isInstanceOf(TestLeaseStore.class);
        assertThat(environment.getProperty("leader.store")).isEqualTo("local");
        assertThat(leadership.grant().leaseName()).isEqualTo("kit-app");
    }

    /** A client that would reach no cluster: it is never asked to. */
    @TestConfiguration(proxyBeanMethods = false)
    static class Client {
        @Bean(destroyMethod = "close")
        KubernetesClient kubernetesClient() {
            return new KubernetesClientBuilder()
                    .withConfig(new ConfigBuilder()
                            .withMasterUrl("http://127.0.0.1:9")
                            .withNamespace("tests")
                            .build())
                    .build();
        }
    }
}
