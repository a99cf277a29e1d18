package dev.leaderpod.actuate;

import static dev.leaderpod.core.SteppedElection.RETRY_PERIOD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.leaderpod.actuate.LeaderEndpoint.LeaderDescriptor;
import dev.leaderpod.actuate.LeaderEndpoint.TermDescriptor;
import dev.leaderpod.actuate.LeaderEndpoint.TimingsDescriptor;
import dev.leaderpod.actuate.LeaderEndpoint.YieldResponse;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.InMemoryLeaseStore;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.SteppedElection;
import dev.leaderpod.core.SteppedElection.Candidate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;

class LeaderEndpointTest {

    private final SteppedElection election = new SteppedElection();

    @Test
    void readReturnsTheLeaseAsTheLeaderLastObservedIt() {
        Instant start = election.wallTime();
        Candidate a = election.candidate("a", true).start();
        election.advance(RETRY_PERIOD.plusMillis(300));

        LeaderDescriptor lease = new LeaderEndpoint(a.elector()).lease();

        assertThat(lease)
                .isEqualTo(new LeaderDescriptor(
                        "orders",
                        "a",
                        true,
                        "a",
                        0L,
                        start.toString(),
                        start.plus(RETRY_PERIOD).toString(),
                        "PT15S",
                        "PT0.3S",
                        "PT0.3S",
                        false,
                        true,
                        0,
                        null,
                        new TermDescriptor(0, start.toString()),
                        new TimingsDescriptor("PT15S", "PT10S", "PT2S", "PT5S")));
    }

    @Test
    void readIsWrittenAsJsonByTheActuatorsMapper() throws Exception {
        Candidate a = election.candidate("a", true).start();
        // As JacksonEndpointAutoConfiguration builds the endpoints' mapper.
        ObjectMapper mapper = Jackson2ObjectMapperBuilder.json()
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .build();

        String json = mapper.writeValueAsString(new LeaderEndpoint(a.elector()).lease());

        assertThat(json)
                .startsWith("{\"lease\":\"orders\",\"identity\":\"a\",\"leader\":true,\"holder\":\"a\","
                        + "\"leaseTransitions\":0,")
                .contains("\"term\":{\"fencingToken\":0,\"acquiredAt\":\"2026-01-01T00:00:01Z\"}")
                .contains("\"settings\":{\"leaseDuration\":\"PT15S\",\"renewDeadline\":\"PT10S\","
                        + "\"retryPeriod\":\"PT2S\",\"requestTimeout\":\"PT5S\"}")
                .doesNotContain("lastFailure");
    }

    @Test
    void readOnAFollowerShowsTheLeaderAndItsOwnFailures() {
        election.candidate("a", false).start();
        Candidate b = election.candidate("b", false).start();
        b.failNext(1, Kind.TIMEOUT);
        election.advance(Duration.ofSeconds(3));

        LeaderDescriptor lease = new LeaderEndpoint(b.elector()).lease();

        assertThat(lease.identity()).isEqualTo("b");
        assertThat(lease.leader()).isFalse();
        assertThat(lease.holder()).isEqualTo("a");
        assertThat(lease.leaseTransitions()).isZero();
        assertThat(lease.lastRenewAge()).isNull();
        assertThat(lease.term()).isNull();
        assertThat(lease.watching()).isFalse();
        assertThat(lease.consecutiveFailures()).isEqualTo(1);
        assertThat(lease.lastFailure()).isEqualTo("timeout");
        assertThat(lease.lastObservedChangeAge()).isEqualTo("PT3S");
    }

    @Test
    void yieldOnAFollowerDoesNothingAndNamesTheLeader() {
        Candidate a = election.candidate("a", true).start();
        Candidate b = election.candidate("b", true).start();

        YieldResponse response = new LeaderEndpoint(b.elector()).yieldLeadership();
        election.runDue();

        assertThat(response.yielded()).isFalse();
        assertThat(response.holder()).isEqualTo("a");
        assertThat(response.message()).contains("does not lead orders", "Send the request to the leader, a.");
        assertThat(a.elector().isLeader()).isTrue();
    }

    @Test
    void yieldOnTheLeaderHandsOverToAWatchingFollower() {
        Candidate a = election.candidate("a", true).start();
        Candidate b = election.candidate("b", true).start();

        YieldResponse response = new LeaderEndpoint(a.elector()).yieldLeadership();
        election.runDue();

        assertThat(response.yielded()).isTrue();
        assertThat(response.fencingToken()).isZero();
        assertThat(response.message()).contains("yields orders (term 0)", "PT15S");
        assertThat(a.elector().isLeader()).isFalse();
        assertThat(b.elector().isLeader()).isTrue();
        assertThat(new LeaderEndpoint(a.elector()).lease().holder()).isEqualTo("b");
    }

    @Test
    void aTargetedYieldHandsTheElectionToTheNamedSuccessor() {
        Candidate a = election.candidate("a", true).start();
        Candidate b = election.candidate("b", true).start();
        Candidate c = election.candidate("c", true).start();

        YieldResponse response = new LeaderEndpoint(a.elector()).yieldLeadership(null, "c");
        election.runDue();

        assertThat(response.yielded()).isTrue();
        assertThat(response.successor()).isEqualTo("c");
        assertThat(response.election()).isEmpty();
        assertThat(response.message()).contains("yields orders (term 0) to c", "naming c as successor", "PT4S");
        assertThat(c.elector().isLeader()).isTrue();
        assertThat(b.elector().isLeader()).isFalse();
    }

    @Test
    void aYieldOfAnUnknownElectionDoesNothingAndListsTheElections() {
        Candidate a = election.candidate("a", true).start();

        YieldResponse response = new LeaderEndpoint(a.elector()).yieldLeadership("reports", "b");
        election.runDue();

        assertThat(response.yielded()).isFalse();
        assertThat(response.message())
                .isEqualTo("No election named 'reports' that this instance is a candidate in." + " Elections: ''.");
        assertThat(a.elector().isLeader()).isTrue();
    }

    @Test
    void aYieldToItselfDoesNothing() {
        Candidate a = election.candidate("a", true).start();

        YieldResponse response = new LeaderEndpoint(a.elector()).yieldLeadership("", "a");

        assertThat(response.yielded()).isFalse();
        assertThat(response.message()).isEqualTo("This instance already leads orders; nothing was done.");
        assertThat(a.elector().isLeader()).isTrue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Two application contexts sharing one store, on real threads

    private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(LeaderElectionAutoConfiguration.class, LeaderEndpointAutoConfiguration.class))
            .withPropertyValues("spring.application.name=billing", "management.endpoints.web.exposure.include=leader");

    @Test
    void yieldThroughTheEndpointHandsLeadershipToTheOtherContext() {
        InMemoryLeaseStore shared = new InMemoryLeaseStore();
        ApplicationContextRunner sharing = contextRunner.withBean(LeaseStore.class, () -> shared);
        sharing.withPropertyValues("leader.identity=pod-a").run(a -> {
            LeaderEndpoint endpointA = a.getBean(LeaderEndpoint.class);
            await().atMost(Duration.ofSeconds(20)).until(() -> endpointA.lease().leader());
            sharing.withPropertyValues("leader.identity=pod-b").run(b -> {
                LeaderEndpoint endpointB = b.getBean(LeaderEndpoint.class);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> "pod-a".equals(endpointB.lease().holder()));

                assertThat(endpointB.yieldLeadership().yielded()).isFalse();
                YieldResponse response = endpointA.yieldLeadership();

                assertThat(response.yielded()).isTrue();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> endpointB.lease().leader());
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> "pod-b".equals(endpointA.lease().holder()));
                assertThat(endpointA.lease().leader()).isFalse();
                assertThat(endpointB.lease().leaseTransitions()).isEqualTo(1);
            });
        });
    }
}
