package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.env.SystemEnvironmentPropertySourceEnvironmentPostProcessor;
import org.springframework.boot.test.context.ConfigDataApplicationContextInitializer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Every message of {@link LeaderConfigurationFailureAnalyzer}, in full, as a user meets it: the description says
 * what is wrong, naming the property, its value as typed and where it was set (here the test's property source),
 * and the rule; the action says what to do. A garbled sentence fails its test.
 */
class LeaderConfigurationFailureAnalyzerTest {

    private static final String FROM_TEST = " (from property source 'test')";

    @TempDir
    Path leases;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
                .withPropertyValues("spring.application.name=billing", "leader.local.directory=" + leases);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Timings

    @Test
    void renewDeadlineNotShorterThanTheLeaseDuration() {
        assertAnalysis(
                runner().withPropertyValues("leader.renew-deadline=15s"),
                "Leader election cannot start: leader.renew-deadline is '15s'" + FROM_TEST + ". It must be shorter"
                        + " than leader.lease-duration (15s), so the leader steps down before anyone can take over.",
                "Set leader.renew-deadline to 14.702s or less, or raise leader.lease-duration.");
    }

    @Test
    void renewDeadlineWithoutTheMarginForClockDrift() {
        assertAnalysis(
                runner().withPropertyValues("leader.lease-duration=20s", "leader.renew-deadline=19800ms"),
                "Leader election cannot start: leader.renew-deadline is '19800ms'" + FROM_TEST + ". It must leave"
                        + " leader.lease-duration (20s) a margin for clocks that tick up to 1 % apart: 1.01 x"
                        + " leader.renew-deadline must be less than 0.99 x leader.lease-duration, so at most 19.603s"
                        + " here (docs/design.md, \"Margin for clock-rate drift\").",
                "Set leader.renew-deadline to 19.603s or less, or raise leader.lease-duration.");
    }

    @Test
    void retryPeriodTooCloseToTheRenewDeadline() {
        assertAnalysis(
                runner().withPropertyValues("leader.retry-period=9s"),
                "Leader election cannot start: leader.retry-period is '9s'" + FROM_TEST + ". 1.2 x leader.retry-period"
                        + " must be shorter than leader.renew-deadline (10s), so the leader gets more than one renew"
                        + " attempt per deadline.",
                "Set leader.retry-period to 8.333s or less, or raise leader.renew-deadline.");
    }

    @Test
    void retryPeriodTooCloseToATypedRenewDeadlineShowsItAsTyped() {
        assertAnalysis(
                runner().withPropertyValues("leader.renew-deadline=6000ms", "leader.retry-period=5s"),
                "Leader election cannot start: leader.retry-period is '5s'" + FROM_TEST + ". 1.2 x leader.retry-period"
                        + " must be shorter than leader.renew-deadline (6000ms), so the leader gets more than one"
                        + " renew attempt per deadline.",
                "Set leader.retry-period to 4.999s or less, or raise leader.renew-deadline.");
    }

    @Test
    void requestTimeoutAboveHalfTheRenewDeadline() {
        assertAnalysis(
                runner().withPropertyValues("leader.request-timeout=6s"),
                "Leader election cannot start: leader.request-timeout is '6s'" + FROM_TEST + ". It must be at most"
                        + " half of leader.renew-deadline (10s), so a hung call cannot use up the deadline.",
                "Set leader.request-timeout to 5s or less (half of leader.renew-deadline), or remove it: that is its"
                        + " default.");
    }

    @Test
    void aDurationThatIsNotPositive() {
        assertAnalysis(
                runner().withPropertyValues("leader.lease-duration=0s"),
                "Leader election cannot start: leader.lease-duration is '0s'" + FROM_TEST + ". It must be positive.",
                "Set leader.lease-duration to a positive duration, or remove it for the default, 15s.");
    }

    @Test
    void aRequestTimeoutThatIsNotPositive() {
        assertAnalysis(
                runner().withPropertyValues("leader.request-timeout=-1s"),
                "Leader election cannot start: leader.request-timeout is '-1s'" + FROM_TEST + ". It must be positive.",
                "Set leader.request-timeout to a positive duration, or remove it: it defaults to half of"
                        + " leader.renew-deadline.");
    }

    @Test
    void aDurationBoundToNothing() {
        // Boot keeps the default for "leader.retry-period=": only a LeaderProperties set by hand gets here.
        FailureAnalysis analysis =
                new LeaderConfigurationFailureAnalyzer().analyze(RefusedSettings.missing("leader.", "retry-period"));

        assertThat(analysis.getDescription())
                .isEqualTo("Leader election cannot start: leader.retry-period is not set. It must be set to a"
                        + " duration.");
        assertThat(analysis.getAction()).isEqualTo("Set leader.retry-period to a positive duration.");
    }

    @Test
    void aLeaseDurationInFractionsOfASecond() {
        assertAnalysis(
                runner().withPropertyValues("leader.lease-duration=15500ms"),
                "Leader election cannot start: leader.lease-duration is '15500ms'" + FROM_TEST + ". It must be whole"
                        + " seconds (a Lease stores leaseDurationSeconds).",
                "Set leader.lease-duration to a whole number of seconds, such as 16s.");
    }

    @Test
    void aNegativeDrainTimeout() {
        assertAnalysis(
                runner().withPropertyValues("leader.drain-timeout=-1s"),
                "Leader election cannot start: leader.drain-timeout is '-1s'" + FROM_TEST + ". It must be zero or"
                        + " positive.",
                "Set leader.drain-timeout to how long the end of a term may wait for leader-only work to finish,"
                        + " such as 10s (the default); 0s does not wait.");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Names

    @Test
    void anInvalidExplicitLeaseName() {
        assertAnalysis(
                runner().withPropertyValues("leader.lease-name=My_App"),
                "Leader election cannot start: leader.lease-name is 'My_App'" + FROM_TEST + ". It must be a valid"
                        + " Kubernetes object name: at most 253 characters, lower-case letters, digits, '-' and '.',"
                        + " starting and ending with a letter or digit.",
                "Set leader.lease-name to a valid name, such as 'my-app', or remove it to use a name derived from"
                        + " spring.application.name.");
    }

    @Test
    void neitherALeaseNameNorAnApplicationName() {
        assertAnalysis(
                new ApplicationContextRunner()
                        .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
                        .withPropertyValues("leader.local.directory=" + leases),
                "Leader election cannot start: leader.lease-name is not set. Neither is spring.application.name, from"
                        + " which it would be derived: one of them must name the lease that every replica of the"
                        + " application shares.",
                "Set spring.application.name (the lease name is derived from it) or leader.lease-name, the same on"
                        + " every replica.");
    }

    @Test
    void anApplicationNameThatNoLeaseNameCanBeDerivedFrom() {
        assertAnalysis(
                runner().withPropertyValues("spring.application.name=___"),
                "Leader election cannot start: spring.application.name is '___'" + FROM_TEST + ". leader.lease-name is"
                        + " not set, and no lease name can be derived from the application's name: it has no letter"
                        + " or digit a Kubernetes object name can keep (a-z, 0-9).",
                "Set leader.lease-name to a valid Kubernetes object name for this application's lease, such as"
                        + " 'billing', the same on every replica.");
    }

    @Test
    void anIdentityThatIsTooLong() {
        String identity = "x".repeat(254);
        assertAnalysis(
                runner().withPropertyValues("leader.identity=" + identity),
                "Leader election cannot start: leader.identity is '" + identity + "'" + FROM_TEST + ". It must be at"
                        + " most 253 characters.",
                "Set leader.identity to a name of at most 253 characters that no other candidate uses, or remove it:"
                        + " the default, the host name plus a random suffix, is unique.");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Named elections

    @Test
    void aNamedElectionsTimingThatBreaksARuleWithAnInheritedOne() {
        assertAnalysis(
                runner().withPropertyValues(
                                "leader.lease-duration=60s",
                                "leader.renew-deadline=40s",
                                "leader.elections.reports.lease-duration=30s"),
                "Leader election cannot start: leader.elections.reports.renew-deadline is '40s', inherited from"
                        + " leader.renew-deadline" + FROM_TEST + ". It must be shorter than"
                        + " leader.elections.reports.lease-duration (30s), so the leader steps down before anyone can"
                        + " take over.",
                "Set leader.elections.reports.renew-deadline to 29.405s or less, or raise"
                        + " leader.elections.reports.lease-duration.");
    }

    @Test
    void aNamedElectionsTimingThatBreaksARuleWithADefaultOne() {
        assertAnalysis(
                runner().withPropertyValues("leader.elections.reports.lease-duration=10s"),
                "Leader election cannot start: leader.elections.reports.renew-deadline is 10s, inherited from the"
                        + " default of leader.renew-deadline. It must be shorter than"
                        + " leader.elections.reports.lease-duration (10s), so the leader steps down before anyone can"
                        + " take over.",
                "Set leader.elections.reports.renew-deadline to 9.801s or less, or raise"
                        + " leader.elections.reports.lease-duration.");
    }

    @Test
    void aNamedElectionsTimingThatIsNotPositive() {
        assertAnalysis(
                runner().withPropertyValues("leader.elections.reports.retry-period=0s"),
                "Leader election cannot start: leader.elections.reports.retry-period is '0s'" + FROM_TEST + ". It must"
                        + " be positive.",
                "Set leader.elections.reports.retry-period to a positive duration, or remove it to inherit"
                        + " leader.retry-period.");
    }

    @Test
    void aConfiguredElectionWithAnInvalidName() {
        assertAnalysis(
                runner().withPropertyValues("leader.elections[Reports].enabled=true"),
                "Leader election cannot start: the election 'Reports' under leader.elections cannot have that name:"
                        + " it must be lower-case letters, digits and '-', starting and ending with a letter or digit,"
                        + " as it names the lease 'billing-<name>'.",
                "Rename the election under leader.elections: lower-case letters, digits and '-', starting and ending"
                        + " with a letter or digit, short enough for '<lease-name>-<name>' to stay within 253"
                        + " characters.");
    }

    @Test
    void aConfiguredElectionWhoseLeaseNameWouldBeTooLong() {
        String base = "l".repeat(240);
        assertAnalysis(
                runner().withPropertyValues(
                                "leader.lease-name=" + base, "leader.elections.quarterly-reports.enabled=true"),
                "Leader election cannot start: the election 'quarterly-reports' under leader.elections cannot have"
                        + " that name: it must keep its lease name '" + base + "-quarterly-reports' a valid"
                        + " Kubernetes object name: at most 253 characters.",
                "Rename the election under leader.elections: lower-case letters, digits and '-', starting and ending"
                        + " with a letter or digit, short enough for '<lease-name>-<name>' to stay within 253"
                        + " characters.");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stores and the pod label

    @Test
    void theKubernetesStoreWithoutTheKubernetesClient() {
        assertAnalysis(
                runner().withPropertyValues("leader.store=kubernetes")
                        .withClassLoader(new FilteredClassLoader("io.fabric8")),
                "Leader election cannot start: leader.store is 'kubernetes'" + FROM_TEST + ". It needs"
                        + " io.fabric8:kubernetes-client on the class path.",
                "Add dev.leaderpod:leader-starter (it brings the client) or io.fabric8:kubernetes-client to the"
                        + " application's dependencies, or set leader.store to local.");
    }

    @Test
    void theKubernetesStoreWithoutANamespace() {
        assertAnalysis(
                runner().withPropertyValues("leader.store=kubernetes")
                        .withBean(KubernetesClient.class, () -> UnreachableKubernetes.client(null)),
                "Leader election cannot start: leader.namespace is not set. No namespace was found in the pod's"
                        + " service account or the Kubernetes client configuration either, and the Lease needs one.",
                "Set leader.namespace to the namespace of the Lease; on Kubernetes, from the downward API: an"
                        + " environment variable LEADER_NAMESPACE with fieldRef metadata.namespace.");
    }

    @Test
    void thePodLabelWithoutThePodsName() {
        assertAnalysis(
                podLabel().withPropertyValues("POD_NAME=", "HOSTNAME="),
                "Leader election cannot start: leader.kubernetes.label-pod is 'true'" + FROM_TEST + ". It needs the"
                        + " pod's name, and neither the environment variable POD_NAME nor HOSTNAME is set.",
                "Set the environment variable POD_NAME from the downward API (fieldRef metadata.name), or set"
                        + " leader.kubernetes.label-pod to false.");
    }

    @Test
    void thePodLabelWithoutThePodsNamespace() {
        assertAnalysis(
                podLabel().withPropertyValues("POD_NAME=billing-0", "POD_NAMESPACE="),
                "Leader election cannot start: leader.kubernetes.label-pod is 'true'" + FROM_TEST + ". It needs the"
                        + " pod's namespace, and neither the environment variable POD_NAMESPACE, leader.namespace nor"
                        + " the Kubernetes client configuration gives one.",
                "Set the environment variable POD_NAMESPACE from the downward API (fieldRef metadata.namespace), or"
                        + " set leader.kubernetes.label-pod to false.");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Where a value came from, and the analysis of a failure thrown without an action

    @Test
    void aValueFromAYamlFileIsSaidToComeFromItsLine() {
        assertAnalysis(
                runner().withInitializer(new ConfigDataApplicationContextInitializer())
                        .withPropertyValues("spring.config.location=classpath:/failure-analysis/application.yaml"),
                "Leader election cannot start: leader.retry-period is '9s' (from class path resource"
                        + " [failure-analysis/application.yaml], line 4). 1.2 x leader.retry-period must be shorter"
                        + " than leader.renew-deadline (10s), so the leader gets more than one renew attempt per"
                        + " deadline.",
                "Set leader.retry-period to 8.333s or less, or raise leader.renew-deadline.");
    }

    @Test
    void aValueFromAnEnvironmentVariableIsSaidToComeFromIt() {
        ApplicationContextRunner fromEnvironment = runner().withInitializer(context -> {
            ConfigurableEnvironment environment = context.getEnvironment();
            environment
                    .getPropertySources()
                    .replace(
                            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                            new SystemEnvironmentPropertySource(
                                    StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                                    Map.of("LEADER_RETRYPERIOD", "9s")));
            // As SpringApplication does: environment variables become origin-aware.
            new SystemEnvironmentPropertySourceEnvironmentPostProcessor()
                    .postProcessEnvironment(environment, new SpringApplication());
        });
        assertAnalysis(
                fromEnvironment,
                "Leader election cannot start: leader.retry-period is '9s' (from environment variable"
                        + " LEADER_RETRYPERIOD). 1.2 x leader.retry-period must be shorter than leader.renew-deadline"
                        + " (10s), so the leader gets more than one renew attempt per deadline.",
                "Set leader.retry-period to 8.333s or less, or raise leader.renew-deadline.");
    }

    @Test
    void aFailureThrownWithoutAnActionAsksToFollowTheRule() {
        FailureAnalysis analysis = new LeaderConfigurationFailureAnalyzer()
                .analyze(new LeaderConfigurationException("leader.presence.interval", "0s", "must be positive"));

        assertThat(analysis.getDescription())
                .isEqualTo("Leader election cannot start: leader.presence.interval is '0s'. It must be positive.");
        assertThat(analysis.getAction())
                .isEqualTo("Change leader.presence.interval to a value that follows this rule.");
    }

    // ---------------------------------------------------------------------------------------------------------

    private ApplicationContextRunner podLabel() {
        return runner().withConfiguration(AutoConfigurations.of(LeaderPodLabelAutoConfiguration.class))
                .withPropertyValues("leader.store=kubernetes", "leader.kubernetes.label-pod=true")
                .withBean(LeaseStore.class, InMemoryLeaseStore::new)
                .withBean(KubernetesClient.class, () -> UnreachableKubernetes.client(null));
    }

    /** Starts {@code runner}, which must fail, and checks the analysis of the failure made with its environment. */
    static void assertAnalysis(ApplicationContextRunner runner, String description, String action) {
        AtomicReference<ConfigurableEnvironment> environment = new AtomicReference<>();
        runner.withInitializer(context -> environment.set(context.getEnvironment()))
                .run(context -> {
                    assertThat(context).hasFailed();
                    FailureAnalysis analysis = new LeaderConfigurationFailureAnalyzer(environment.get())
                            .analyze(context.getStartupFailure());
                    assertThat(analysis)
                            .as("failure analysis of %s", context.getStartupFailure())
                            .isNotNull();
                    assertThat(analysis.getDescription()).isEqualTo(description);
                    assertThat(analysis.getAction()).isEqualTo(action);
                });
    }
}
