package dev.leaderpod.benchmarks.footprint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FootprintScenarioTest {

    @Test
    void matchesClassPathEntriesByArtifactIdWhateverTheirVersion() {
        assertThat(FootprintScenario.matches(
                        "/m2/io/netty/netty-codec/4.1.128.Final/netty-codec-4.1.128.Final.jar", "netty-codec"))
                .isTrue();
        assertThat(FootprintScenario.matches("/m2/org/yaml/snakeyaml/2.4/snakeyaml-2.4.jar", "snakeyaml"))
                .isTrue();
        assertThat(FootprintScenario.matches(
                        "/m2/org/snakeyaml/snakeyaml-engine/2.9/snakeyaml-engine-2.9.jar", "snakeyaml"))
                .isFalse();
        assertThat(FootprintScenario.matches("/work/leader-autoconfigure/target/classes", "leader-autoconfigure"))
                .isTrue();
        assertThat(FootprintScenario.matches("/m2/io/vertx/vertx-web/4.5.14/vertx-web-4.5.14.jar", "vertx-web"))
                .isTrue();
        assertThat(FootprintScenario.matches(
                        "/m2/io/vertx/vertx-web-client/4.5.14/vertx-web-client-4.5.14.jar", "vertx-web"))
                .isFalse();
    }
}
