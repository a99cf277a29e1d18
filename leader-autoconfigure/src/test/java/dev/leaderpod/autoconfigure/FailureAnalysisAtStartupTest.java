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
    void invalidTimingStopsStartUpWithAnExplanationOfTheValuesAsTyped(CapturedOutput output) {
        assertThatThrownBy(() -> new SpringApplicationBuilder(App.class)
                        .web(WebApplicationType.NONE)
                        .properties(
                                "spring.application.name=billing",
                                "leader.store=local",
                                "leader.local.directory=target/failure-analysis-leases")
                        .run("--leader.lease-duration=10s", "--leader.renew-deadline=12s"))
                .hasRootCauseInstanceOf(LeaderConfigurationException.class);
        String newline = System.lineSeparator();
        assertThat(output)
                .contains("APPLICATION FAILED TO START")
                .contains("Description:" + newline + newline
                        + "Leader election cannot start: leader.renew-deadline is '12s' (from the command line). It"
                        + " must be shorter than leader.lease-duration (10s), so the leader steps down before anyone"
                        + " can take over." + newline)
                .contains("Action:" + newline + newline
                        + "Set leader.renew-deadline to 9.801s or less, or raise leader.lease-duration." + newline);
    }

    @SpringBootConfiguration
    @ImportAutoConfiguration(LeaderElectionAutoConfiguration.class)
    static class App {}
}
