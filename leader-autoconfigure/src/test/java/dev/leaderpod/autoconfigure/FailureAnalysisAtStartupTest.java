package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** The failure analyzer is registered, so a real application start prints the explanation, not a stack trace. */
@ExtendWith(OutputCaptureExtension.class)
class FailureAnalysisAtStartupTest {

    @Test
    void invalidTimingStopsStartUpWithAnExplanation(CapturedOutput output) {
        assertThatThrownBy(() -> new SpringApplicationBuilder(App.class)
                        .web(WebApplicationType.NONE)
                        .properties(
                                "spring.application.name=billing",
                                "leader.store=local",
                                "leader.local.directory=target/failure-analysis-leases",
                                "leader.lease-duration=10s",
                                "leader.renew-deadline=12s")
                        .run())
                .hasRootCauseInstanceOf(LeaderConfigurationException.class);
        assertThat(output)
                .contains("APPLICATION FAILED TO START")
                .contains("property 'leader.renew-deadline' has value 'PT12S'")
                .contains("shorter than leader.lease-duration (PT10S)")
                .contains("Change 'leader.renew-deadline'");
    }

    @SpringBootConfiguration
    @ImportAutoConfiguration(LeaderElectionAutoConfiguration.class)
    static class App {}
}
