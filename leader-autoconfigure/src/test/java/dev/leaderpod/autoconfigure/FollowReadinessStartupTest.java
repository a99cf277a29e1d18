package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * Start-up of a whole application ({@code SpringApplication}, every auto-configuration): the elections start during
 * the context's refresh, but Spring Boot says the application accepts traffic only once it is ready (after the
 * runners). With {@code leader.follow-readiness} (the default) a new instance leads only from then: neither an
 * {@code ApplicationStartedEvent} listener nor a runner sees it lead. Off, it may lead during the refresh, and a
 * runner may wait for leadership. Logs the delay from ready to the grant (docs/design.md, "Leadership follows
 * readiness").
 */
class FollowReadinessStartupTest {

    private static final Logger log = LoggerFactory.getLogger(FollowReadinessStartupTest.class);

    @Test
    void byDefaultANewInstanceLeadsOnlyOnceTheApplicationIsReady() {
        Map<String, Object> seen = start(true);

        assertThat(seen).containsEntry("leader when started", false).containsEntry("leader in a runner", false);
        assertThat((long) seen.get("lead after ready (µs)"))
                .as("granted after ready")
                .isPositive();
    }

    /** Off, nothing waits for readiness: a runner that waits for leadership gets it (on, it never would). */
    @Test
    void withFollowReadinessOffARunnerCanWaitForLeadership() {
        Map<String, Object> seen = start(false);

        assertThat(seen).containsEntry("leader in a runner", true);
    }

    private static Map<String, Object> start(boolean follow) {
        Map<String, Object> seen = new ConcurrentHashMap<>();
        long begin = System.nanoTime();
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.application.name=billing",
                        "leader.identity=pod-a",
                        "spring.main.banner-mode=off",
                        "leader.follow-readiness=" + follow)
                .listeners((ApplicationListener<ApplicationStartedEvent>) event -> seen.put(
                        "leader when started",
                        event.getApplicationContext()
                                .getBean(LeaseElector.class)
                                .isLeader()))
                .listeners(
                        (ApplicationListener<ApplicationReadyEvent>) event -> seen.put("ready at", System.nanoTime()))
                .run()) {
            Probe probe = context.getBean(Probe.class);
            await().atMost(Duration.ofSeconds(20)).until(() -> probe.grantedAt != 0);
            seen.put("leader in a runner", probe.leaderInARunner);
            long ready = (long) seen.get("ready at");
            seen.put("lead after ready (µs)", (probe.grantedAt - ready) / 1000);
            log.info(
                    "follow-readiness={}: ready {} ms after run() began; granted {} µs after ready",
                    follow,
                    Duration.ofNanos(ready - begin).toMillis(),
                    seen.get("lead after ready (µs)"));
        }
        return seen;
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        LeaseStore leaseStore() {
            return new InMemoryLeaseStore();
        }

        @Bean
        Probe probe() {
            return new Probe();
        }

        /** Looks whether this instance leads; with follow-readiness off, waits until it does. */
        @Bean
        ApplicationRunner leadershipSeenByARunner(
                LeaseElector elector, Probe probe, @Value("${leader.follow-readiness}") boolean follow) {
            return args -> {
                if (!follow) {
                    await().atMost(Duration.ofSeconds(20)).until(elector::isLeader);
                }
                probe.leaderInARunner = elector.isLeader();
            };
        }
    }

    /** When this instance was granted leadership (event thread), and whether a runner found it leading. */
    static final class Probe implements LeadershipListener {
        volatile long grantedAt;
        volatile boolean leaderInARunner;

        @Override
        public void onStartedLeading(LeadershipTerm term) {
            grantedAt = System.nanoTime();
        }
    }
}
