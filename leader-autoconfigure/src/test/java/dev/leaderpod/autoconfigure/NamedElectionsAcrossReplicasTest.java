package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.events.LeaderContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.AbstractLeaderEvent;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;

/**
 * Two replicas of one application, as two contexts on one shared store, with three elections: each election has one
 * leader at a time, whichever replica it is, through start-up, a replica staying out of an election, and a
 * replica's shutdown (docs/design.md, "Named elections").
 */
class NamedElectionsAcrossReplicasTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final List<String> ROLES = List.of("billing", "reports", "audit");

    private final InMemoryLeaseStore store = new InMemoryLeaseStore();
    private final Terms terms = new Terms();

    private final ApplicationContextRunner replica = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(LeaderElectionAutoConfiguration.class))
            .withPropertyValues(
                    "spring.application.name=billing",
                    "leader.elections.reports.enabled=true",
                    "leader.elections.audit.enabled=true")
            .withBean(LeaseStore.class, () -> store)
            .withBean(Terms.class, () -> terms);

    @Test
    void everyElectionHasOneLeaderAtATimeAcrossReplicas() {
        replica.withPropertyValues("leader.identity=a", "leader.elections.reports.enabled=false")
                .run(a -> {
                    await().atMost(WAIT).until(() -> leaders(a).keySet().containsAll(List.of("", "audit")));
                    replica.withPropertyValues("leader.identity=b").run(b -> {
                        // a stays out of reports, so b leads it; b follows a in the two others.
                        await().atMost(WAIT).until(() -> leaders(b).containsKey("reports"));
                        assertThat(leaders(a)).containsOnlyKeys("", "audit");
                        assertThat(leaders(b)).containsOnlyKeys("reports");

                        a.close(); // releases its leases: b takes them over at once

                        await().atMost(WAIT).until(() -> leaders(b).size() == 3);
                        assertThat(holders()).containsExactly("b", "b", "b");
                    });
                });

        assertThat(terms.granted())
                .containsExactlyInAnyOrder("billing a", "audit a", "reports b", "billing b", "audit b");
        for (String role : ROLES) {
            assertThat(terms.overlapsOf(role))
                    .as("overlapping terms of %s", role)
                    .isEmpty();
        }
    }

    /** The elections this replica leads, by name. */
    private static Map<String, Boolean> leaders(ApplicationContext replica) {
        LeaderElections elections = replica.getBean(LeaderElections.class);
        return elections.names().stream()
                .filter(name -> elections.election(name).isLeader())
                .collect(Collectors.toMap(name -> name, name -> true));
    }

    private List<String> holders() {
        return List.of("billing", "billing-reports", "billing-audit").stream()
                .map(lease -> store.get(lease).orElseThrow().record().holderIdentity())
                .toList();
    }

    /** Every replica's terms, as Spring Integration endpoints hear of them: granted and revoked, by role. */
    static final class Terms {

        private record Event(String role, String identity, boolean granted, long nanos) {}

        private final List<Event> events = new CopyOnWriteArrayList<>();

        @EventListener
        void onGranted(OnGrantedEvent event) {
            record(event, true);
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            record(event, false);
        }

        private void record(AbstractLeaderEvent event, boolean granted) {
            String identity = LeaderContext.from(event).orElseThrow().getIdentity();
            events.add(new Event(event.getRole(), identity, granted, System.nanoTime()));
        }

        List<String> granted() {
            return events.stream()
                    .filter(Event::granted)
                    .map(event -> event.role() + " " + event.identity())
                    .toList();
        }

        /**
         * Terms of {@code role} that began while another replica's term of it had not ended: a grant heard while
         * another identity's last grant was not followed by its revocation.
         */
        List<String> overlapsOf(String role) {
            List<String> overlaps = new ArrayList<>();
            String leading = null;
            for (Event event : events.stream()
                    .filter(e -> e.role().equals(role))
                    .sorted((x, y) -> Long.compare(x.nanos(), y.nanos()))
                    .toList()) {
                if (event.granted()) {
                    if (leading != null) {
                        overlaps.add(event.identity() + " granted while " + leading + " led");
                    }
                    leading = event.identity();
                } else if (event.identity().equals(leading)) {
                    leading = null;
                }
            }
            return overlaps;
        }
    }
}
