package dev.leaderpod.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.leaderpod.actuate.LeaderEndpoint;
import dev.leaderpod.actuate.LeaderEndpoint.SpreadDescriptor;
import dev.leaderpod.actuate.LeaderEndpoint.YieldResponse;
import dev.leaderpod.actuate.LeaderEndpointAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.autoconfigure.LeaderElections;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.spread.ElectionSpreader;
import dev.leaderpod.store.kubernetes.PreconditionCrudDispatcher;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.integration.annotation.InboundChannelAdapter;
import org.springframework.integration.annotation.Poller;
import org.springframework.integration.annotation.Role;
import org.springframework.integration.channel.NullChannel;
import org.springframework.integration.config.EnableIntegration;
import org.springframework.integration.core.MessageSource;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.integration.support.SmartLifecycleRoleController;
import org.springframework.messaging.MessageChannel;
import org.springframework.messaging.support.MessageBuilder;

/**
 * Application contexts with the default election and five named ones (E = 6) against one Kubernetes API (the fabric8
 * mock server in CRUD mode, honouring DELETE preconditions as the API server does), each through its own proxy so one
 * can be cut off the network: the elections spread over the live candidates, a joining one takes only the surplus, a
 * targeted hand-over moves exactly its election, a closing one hands its elections over spread, a crashed one's
 * elections end up spread over the survivors, and a Spring Integration {@code @Role("reports")} endpoint runs on the
 * leader of {@code reports} only (docs/design.md, "Spreading elections"). Every grant and revocation of every election
 * is recorded, with its time, from the Spring Integration events, and no election ever has two leaders.
 */
class SpreadingKubernetesTest {

    private static final String NAMESPACE = "team-a";
    private static final String APP = "jobs";
    /** Every election: the default one ("") and five named ones. */
    private static final List<String> ELECTIONS = List.of("", "audit", "billing", "index", "mail", "reports");

    private static final Duration WAIT = Duration.ofSeconds(20);
    /**
     * Leases whose last renews were nearer than this may expire, as the survivors see them, before the first takeover
     * has landed: a race for both. Half the retry period: a write's latency on a loaded machine stays well below.
     */
    private static final long RACE_WINDOW_MILLIS = 250;

    private final PreconditionCrudDispatcher dispatcher = new PreconditionCrudDispatcher();
    private final List<Member> members = new ArrayList<>();
    private final List<TcpProxy> proxies = new ArrayList<>();
    /** Every grant and revocation of every election on every member, in the order they were recorded. */
    private final List<Transition> transitions = new CopyOnWriteArrayList<>();

    private KubernetesMockServer server;
    private KubernetesClient admin;

    /** One grant or revocation of {@code role} on {@code member}, at {@code nanos} ({@link System#nanoTime()}). */
    record Transition(String member, String role, boolean granted, long nanos) {}

    @BeforeEach
    void startServer() {
        server = PreconditionCrudDispatcher.server(dispatcher);
        admin = server.createClient();
    }

    @AfterEach
    void stopAllAndCheckOverlaps() throws Exception {
        try {
            // A crashed member stays cut off: closing its proxy refuses its calls at once, so it closes quickly.
            for (Member member : members) {
                if (member.crashed) {
                    member.proxy.close();
                }
            }
            for (Member member : members) {
                member.context.close();
            }
            assertNoElectionEverHadTwoLeaders();
        } finally {
            for (Member member : members) {
                member.client.close();
            }
            for (TcpProxy proxy : proxies) {
                proxy.close();
            }
            admin.close();
            server.destroy();
        }
    }

    @Test
    void electionsSpreadMoveMinimallyFollowTheirRolesAndSurviveACrash() throws Exception {
        long testStart = System.nanoTime();

        // 1. Balance: three candidates lead two elections each.
        Member m0 = start("m0");
        Member m1 = start("m1");
        Member m2 = start("m2");
        long started = System.nanoTime();
        awaitFair(List.of(m0, m1, m2), 2, 2, 2);
        assertSpreadingShownByTheEndpoint(List.of(m0, m1, m2));
        assertReportsEndpointRunsOnItsLeaderOnly();
        assertNoElectionEverHadTwoLeaders();
        System.out.printf(
                "Spreading on Kubernetes: 3 candidates fair after %d ms: %s%n", millisSince(started), shares(live()));

        // 2a. A fourth joins: only the surplus moves, one election from the last of the equally loaded (by identity)
        // to it.
        Map<String, Long> movesBefore = moves(List.of(m0, m1, m2));
        int grantsAtJoin = grants();
        Member m3 = start("m3");
        long joined = System.nanoTime();
        awaitFair(List.of(m0, m1, m2, m3), 2, 2, 1, 1);
        assertThat(shares(live()))
                .as("m2 gave its surplus to m3")
                .containsEntry("m2", 1)
                .containsEntry("m3", 1);
        assertThat(movesSince(movesBefore)).as("moves when m3 joined").isEqualTo(Map.of("m2", 1L));
        assertThat(m3.spreader().moves()).as("m3 moved nothing").isZero();
        assertThat(grantsSince(grantsAtJoin))
                .as("grants when m3 joined")
                .hasSize(1)
                .allMatch(t -> t.member().equals("m3"));
        assertSpreadingShownByTheEndpoint(live());
        assertReportsEndpointRunsOnItsLeaderOnly();
        System.out.printf(
                "Spreading on Kubernetes: m3 joined, fair again after %d ms with 1 move: %s%n",
                millisSince(joined), shares(live()));

        // 2b. A targeted hand-over moves exactly that election to the named candidate.
        Member billingLeader = leaderOf("billing");
        int billingLeaderShare = shareOf(billingLeader);
        Member successor = live().stream()
                .filter(m -> m != billingLeader && shareOf(m) == 1)
                .findFirst()
                .orElseThrow();
        movesBefore = moves(live());
        int grantsAtHandOver = grants();
        long handOverAt = System.nanoTime();
        YieldResponse response = billingLeader.endpoint().yieldLeadership("billing", successor.identity);
        assertThat(response.yielded()).as(response.message()).isTrue();
        assertThat(response.successor()).isEqualTo(successor.identity);
        await().atMost(WAIT).until(() -> !grantsSince(grantsAtHandOver).isEmpty());
        assertThat(grantsSince(grantsAtHandOver).get(0))
                .as("the first grant after the hand-over")
                .extracting(Transition::member, Transition::role)
                .containsExactly(successor.identity, "billing");
        assertThat(lease("billing").getSpec().getHolderIdentity()).isEqualTo(successor.identity);
        // A leader of two handing one to a leader of one leaves the shares fair: nothing else moves. A leader of one
        // leaves itself none: one move makes the shares fair again.
        long expectedMoves = billingLeaderShare == 2 ? 0 : 1;
        awaitFair(live(), 2, 2, 1, 1);
        assertThat(movesSince(movesBefore).values().stream()
                        .mapToLong(Long::longValue)
                        .sum())
                .as("moves after the targeted hand-over from a leader of %d", billingLeaderShare)
                .isEqualTo(expectedMoves);
        assertThat(grantsSince(grantsAtHandOver))
                .as("grants after the targeted hand-over")
                .hasSize(1 + (int) expectedMoves);
        if (expectedMoves == 0) {
            assertThat(leaderOf("billing")).isSameAs(successor);
        }
        assertReportsEndpointRunsOnItsLeaderOnly();
        System.out.printf(
                "Spreading on Kubernetes: billing handed from %s (leading %d) to %s in %d ms, then %d move(s): %s%n",
                billingLeader.identity,
                billingLeaderShare,
                successor.identity,
                (grantsSince(grantsAtHandOver).get(0).nanos() - handOverAt) / 1_000_000,
                expectedMoves,
                shares(live()));

        // 2c. A candidate closes: its elections land spread over the others, and nothing moves afterwards. The leader
        // of 'reports' if it leads two, so that 'reports' moves and its endpoint follows.
        Member reportsLeader = leaderOf("reports");
        Member closing = shareOf(reportsLeader) == 2
                ? reportsLeader
                : live().stream().filter(m -> shareOf(m) == 2).findFirst().orElseThrow();
        List<Member> stayers = live().stream().filter(m -> m != closing).toList();
        List<String> lightest = stayers.stream()
                .filter(m -> shareOf(m) == 1)
                .map(m -> m.identity)
                .sorted()
                .toList();
        movesBefore = moves(stayers);
        int grantsAtClose = grants();
        long closingAt = System.nanoTime();
        closing.context.close();
        long closedAt = System.nanoTime();
        awaitFair(stayers, 2, 2, 2);
        List<Transition> handedOver = grantsSince(grantsAtClose);
        assertThat(handedOver)
                .as("the closing candidate's two elections, one to each of the least loaded")
                .extracting(Transition::member)
                .containsExactlyInAnyOrderElementsOf(lightest);
        assertThat(movesSince(movesBefore).values().stream()
                        .mapToLong(Long::longValue)
                        .sum())
                .as("moves after the close")
                .isZero();
        assertThat(presenceLeases()).as("announcements left").hasSize(3);
        assertSpreadingShownByTheEndpoint(stayers);
        assertReportsEndpointRunsOnItsLeaderOnly();
        System.out.printf(
                "Spreading on Kubernetes: %s closed in %d ms and handed %s; fair %d ms after the close: %s%n",
                closing.identity,
                (closedAt - closingAt) / 1_000_000,
                handedOver.stream().map(t -> t.role() + "->" + t.member()).toList(),
                millisSince(closedAt),
                shares(live()));

        // 3. A candidate crashes (cut off the network: no release, no goodbye): once its leases expire, the
        // survivors take them, not all by one, and end up fair. The leader of 'reports', so that its endpoint follows.
        Member crashed = leaderOf("reports");
        List<String> crashedNames = ELECTIONS.stream()
                .filter(name -> crashed.elections.election(name).isLeader())
                .toList();
        List<String> crashedElections =
                crashedNames.stream().map(SpreadingKubernetesTest::role).toList();
        List<Member> survivors = live().stream().filter(m -> m != crashed).toList();
        Map<String, Long> movesAtCut = moves(survivors);
        int transitionsAtCut = transitions.size();
        int grantsAtCut = grants();
        long cutAt = System.nanoTime();
        crashed.proxy.cut();
        crashed.crashed = true;
        // Its last renews, as they stay on the server until its leases are taken: read once it stepped down (its
        // renew deadline, two seconds before anyone may take over), when no renew of it can land any more.
        await().atMost(WAIT)
                .until(() -> transitions.subList(transitionsAtCut, transitions.size()).stream()
                                .filter(t -> t.member().equals(crashed.identity) && !t.granted())
                                .count()
                        == crashedElections.size());
        List<Long> lastRenews = crashedNames.stream()
                .map(name -> lease(name).getSpec().getRenewTime().toInstant().toEpochMilli())
                .sorted()
                .toList();
        long renewsApartMillis = lastRenews.get(lastRenews.size() - 1) - lastRenews.get(0);
        await().atMost(WAIT).until(() -> grantsSince(grantsAtCut).size() >= crashedElections.size());
        List<Transition> takeovers = grantsSince(grantsAtCut).subList(0, crashedElections.size());
        Map<String, List<String>> split = takeovers.stream()
                .collect(Collectors.groupingBy(
                        Transition::member, TreeMap::new, Collectors.mapping(Transition::role, Collectors.toList())));
        long takenAfterMillis = (takeovers.get(0).nanos() - cutAt) / 1_000_000;
        long apartMillis = (takeovers.get(1).nanos() - takeovers.get(0).nanos()) / 1_000_000;
        System.out.printf(
                "Spreading on Kubernetes: %s crashed leading %s (last renews %d ms apart); taken over %d ms after the"
                        + " cut, %d ms apart, as %s%n",
                crashed.identity, crashedElections, renewsApartMillis, takenAfterMillis, apartMillis, split);
        assertThat(takeovers)
                .as("the first takeovers are of the crashed candidate's elections")
                .extracting(Transition::role)
                .containsExactlyInAnyOrderElementsOf(crashedElections);
        assertThat(takenAfterMillis)
                .as("taken over once expired (4 s after the last renew, at most a retry period before the cut)")
                .isGreaterThanOrEqualTo(4000 - 500);
        assertThat(transitions.subList(transitionsAtCut, transitions.size()))
                .as("the crashed candidate stopped leading at its renew deadline")
                .filteredOn(t -> t.member().equals(crashed.identity))
                .extracting(Transition::granted, Transition::role)
                .containsExactlyInAnyOrderElementsOf(crashedElections.stream()
                        .map(role -> tuple(false, role))
                        .toList());
        // The survivor that takes the first expired lease leads one more than the other when the second expires, so
        // the other goes first (Candidacy#patience). Leases that expire at (nearly) the same instant, renewed in
        // step, are raced for by both survivors alike: one may win both, and the spreader then moves one. A race the
        // design leaves to the spreader, told apart by how far apart the crashed candidate's last renews were.
        if (split.size() == 1) {
            assertThat(renewsApartMillis)
                    .as(
                            "one survivor took both, whose last renews were %d ms apart: patience should have left the"
                                    + " second to the other",
                            renewsApartMillis)
                    .isLessThan(RACE_WINDOW_MILLIS);
        }
        long movesExpected = split.size() == 1 ? 1 : 0;
        awaitFair(survivors, 3, 3);
        assertThat(shares(survivors)).doesNotContainKey(crashed.identity);
        assertThat(movesSince(movesAtCut).values().stream()
                        .mapToLong(Long::longValue)
                        .sum())
                .as("moves after the takeovers %s", split)
                .isEqualTo(movesExpected);
        assertThat(presenceLeases()).as("announcements left").hasSize(2);
        assertSpreadingShownByTheEndpoint(survivors);
        assertReportsEndpointRunsOnItsLeaderOnly();
        assertNoElectionEverHadTwoLeaders();
        System.out.printf(
                "Spreading on Kubernetes: survivors fair %d ms after the cut: %s; the whole test took %d ms%n",
                millisSince(cutAt), shares(survivors), millisSince(testStart));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Checks

    /**
     * Waits until {@code expected} lists the shares of {@code candidates} (in any order), every election has exactly
     * one leader among all running members and the Lease on the API server names it, and then that this stays so for
     * three retry periods (no move pending).
     */
    private void awaitFair(List<Member> candidates, Integer... expected) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> fair(candidates, expected));
        await().during(Duration.ofMillis(1500))
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> fair(candidates, expected));
        // The Leases on the server name those holders.
        for (String election : ELECTIONS) {
            assertThat(lease(election).getSpec().getHolderIdentity())
                    .as("holder of %s on the API server", leaseName(election))
                    .isEqualTo(leaderOf(election).identity);
        }
    }

    private boolean fair(List<Member> candidates, Integer... expected) {
        for (String election : ELECTIONS) {
            List<Member> leaders = running().stream()
                    .filter(m -> m.elections.election(election).isLeader())
                    .toList();
            if (leaders.size() != 1 || !candidates.contains(leaders.get(0))) {
                return false;
            }
        }
        List<Integer> actual = candidates.stream().map(this::shareOf).sorted().toList();
        return actual.equals(List.of(expected).stream().sorted().toList());
    }

    /** Each spreader counts the shares as they are, and the endpoint shows them under {@code spreading}. */
    private void assertSpreadingShownByTheEndpoint(List<Member> candidates) {
        Map<String, Integer> actual = shares(candidates);
        await().atMost(WAIT).untilAsserted(() -> {
            for (Member member : candidates) {
                SpreadDescriptor spreading = member.endpoint().lease().spreading();
                assertThat(spreading).as("spreading on %s", member.identity).isNotNull();
                assertThat(spreading.shares())
                        .as("shares shown by %s", member.identity)
                        .isEqualTo(actual);
                assertThat(spreading.share()).isEqualTo(actual.get(member.identity));
                assertThat(spreading.candidates()).containsOnlyKeys(actual.keySet());
                assertThat(spreading.moves()).isEqualTo(member.spreader().moves());
            }
        });
    }

    /**
     * The {@code @Role("reports")} endpoint runs on the leader of {@code reports} and on no other member (crashed
     * ones included), and only it polls.
     */
    private void assertReportsEndpointRunsOnItsLeaderOnly() {
        Member leader = leaderOf("reports");
        await().atMost(WAIT).untilAsserted(() -> {
            for (Member member : running()) {
                Map<String, Boolean> status = member.roles().getEndpointsRunningStatus("reports");
                assertThat(status)
                        .as("endpoints of role reports on %s", member.identity)
                        .hasSize(1);
                assertThat(status.values())
                        .as("reports endpoint running on %s (leader: %s)", member.identity, leader.identity)
                        .containsExactly(member == leader);
            }
        });
        Map<Member, Integer> before = new LinkedHashMap<>();
        running().forEach(m -> before.put(m, m.polls.get()));
        await().atMost(WAIT).until(() -> leader.polls.get() >= before.get(leader) + 3);
        for (Member member : running()) {
            if (member != leader) {
                assertThat(member.polls.get())
                        .as("polls on %s, which does not lead reports", member.identity)
                        .isEqualTo(before.get(member));
            }
        }
    }

    /** Per election, from the recorded events: a grant only while nobody holds it, a revocation only by its holder. */
    private void assertNoElectionEverHadTwoLeaders() {
        List<String> violations = new ArrayList<>();
        List<Transition> ordered = new ArrayList<>(transitions);
        ordered.sort(Comparator.comparingLong(Transition::nanos));
        Map<String, String> holders = new TreeMap<>();
        for (Transition t : ordered) {
            String holder = holders.get(t.role());
            if (t.granted()) {
                if (holder != null) {
                    violations.add(t.role() + " granted to " + t.member() + " while " + holder + " led it");
                }
                holders.put(t.role(), t.member());
            } else {
                if (!t.member().equals(holder)) {
                    violations.add(t.role() + " revoked on " + t.member() + " while " + holder + " led it");
                } else {
                    holders.remove(t.role());
                }
            }
        }
        assertThat(violations).as("two leaders of one election").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views

    /** Members whose context runs, crashed ones included. */
    private List<Member> running() {
        return members.stream().filter(m -> m.context.isActive()).toList();
    }

    /** Members whose context runs and that are not cut off. */
    private List<Member> live() {
        return running().stream().filter(m -> !m.crashed).toList();
    }

    private Member leaderOf(String election) {
        List<Member> leaders = running().stream()
                .filter(m -> m.elections.election(election).isLeader())
                .toList();
        assertThat(leaders).as("leaders of '%s'", election).hasSize(1);
        return leaders.get(0);
    }

    private int shareOf(Member member) {
        return (int) member.elections.electors().values().stream()
                .filter(LeaseElector::isLeader)
                .count();
    }

    private Map<String, Integer> shares(List<Member> candidates) {
        Map<String, Integer> shares = new TreeMap<>();
        candidates.forEach(m -> shares.put(m.identity, shareOf(m)));
        return shares;
    }

    private static Map<String, Long> moves(List<Member> candidates) {
        Map<String, Long> moves = new TreeMap<>();
        candidates.forEach(m -> moves.put(m.identity, m.spreader().moves()));
        return moves;
    }

    /** The moves made since {@code before}, by the members that made any (a closed member's as it closed). */
    private Map<String, Long> movesSince(Map<String, Long> before) {
        Map<String, Long> made = new TreeMap<>();
        for (Member member : members) {
            if (before.containsKey(member.identity)) {
                long delta = member.spreaderMoves() - before.get(member.identity);
                if (delta != 0) {
                    made.put(member.identity, delta);
                }
            }
        }
        return made;
    }

    private int grants() {
        return (int) transitions.stream().filter(Transition::granted).count();
    }

    /** The grants recorded after the first {@code before} ones, in order. */
    private List<Transition> grantsSince(int before) {
        List<Transition> grants =
                transitions.stream().filter(Transition::granted).toList();
        return grants.subList(Math.min(before, grants.size()), grants.size());
    }

    private Lease lease(String election) {
        return admin.leases()
                .inNamespace(NAMESPACE)
                .withName(leaseName(election))
                .get();
    }

    private List<String> presenceLeases() {
        return admin
                .leases()
                .inNamespace(NAMESPACE)
                .withLabel("leaderpod.dev/presence-of", APP)
                .list()
                .getItems()
                .stream()
                .map(l -> l.getMetadata().getName())
                .toList();
    }

    private static String leaseName(String election) {
        return election.isEmpty() ? APP : APP + "-" + election;
    }

    /** The role of an election's events: the lease name for the default one, else its name. */
    private static String role(String election) {
        return election.isEmpty() ? APP : election;
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Members

    private Member start(String identity) throws Exception {
        URI api = URI.create(server.createClient().getConfiguration().getMasterUrl());
        TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", api.getPort()));
        proxies.add(proxy);
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(proxy.url())
                .withNamespace(NAMESPACE)
                .withRequestRetryBackoffLimit(0)
                .build();
        KubernetesClient client =
                new KubernetesClientBuilder().withConfig(config).build();
        Member member = new Member(identity, proxy, client, transitions);
        List<String> properties = new ArrayList<>(List.of(
                "spring.application.name=" + APP,
                "leader.store=kubernetes",
                "leader.identity=" + identity,
                "leader.lease-duration=4s",
                "leader.renew-deadline=2s",
                "leader.retry-period=500ms",
                "leader.drain-timeout=1s",
                "leader.spread.presence-interval=1s",
                "management.endpoints.web.exposure.include=leader",
                "spring.main.banner-mode=off"));
        for (String election : ELECTIONS) {
            if (!election.isEmpty()) {
                properties.add("leader.elections." + election + ".enabled=true");
            }
        }
        member.context = new SpringApplicationBuilder(Member.Config.class)
                .web(WebApplicationType.NONE)
                .properties(properties.toArray(String[]::new))
                .initializers(context -> {
                    context.getBeanFactory().registerSingleton("kubernetesClient", client);
                    context.getBeanFactory().registerSingleton("member", member);
                })
                .run();
        member.elections = member.context.getBean(LeaderElections.class);
        members.add(member);
        return member;
    }

    static final class Member {
        final String identity;
        final TcpProxy proxy;
        final KubernetesClient client;
        final List<Transition> transitions;
        final AtomicInteger polls = new AtomicInteger();
        ConfigurableApplicationContext context;
        LeaderElections elections;
        volatile boolean crashed;
        private volatile long lastMoves;

        Member(String identity, TcpProxy proxy, KubernetesClient client, List<Transition> transitions) {
            this.identity = identity;
            this.proxy = proxy;
            this.client = client;
            this.transitions = transitions;
        }

        @EventListener
        void onGranted(OnGrantedEvent event) {
            transitions.add(new Transition(identity, event.getRole(), true, System.nanoTime()));
        }

        @EventListener
        void onRevoked(OnRevokedEvent event) {
            transitions.add(new Transition(identity, event.getRole(), false, System.nanoTime()));
        }

        ElectionSpreader spreader() {
            ElectionSpreader spreader = elections.spreader().orElseThrow();
            lastMoves = spreader.moves();
            return spreader;
        }

        /** Moves made so far: as last seen while it spread, once it stopped. */
        long spreaderMoves() {
            Optional<ElectionSpreader> spreader = elections.spreader();
            spreader.ifPresent(s -> lastMoves = s.moves());
            return lastMoves;
        }

        LeaderEndpoint endpoint() {
            return context.getBean(LeaderEndpoint.class);
        }

        SmartLifecycleRoleController roles() {
            return context.getBean(SmartLifecycleRoleController.class);
        }

        @SpringBootConfiguration
        @EnableIntegration
        @ImportAutoConfiguration({LeaderElectionAutoConfiguration.class, LeaderEndpointAutoConfiguration.class})
        static class Config {

            @Bean
            MessageChannel reportRuns() {
                return new NullChannel();
            }

            /** Runs on the leader of 'reports' only: started and stopped by the role controller with its terms. */
            @Bean
            @Role("reports")
            @InboundChannelAdapter(value = "reportRuns", autoStartup = "false", poller = @Poller(fixedDelay = "100"))
            MessageSource<String> reports(Member member) {
                return () -> {
                    member.polls.incrementAndGet();
                    return MessageBuilder.withPayload(member.identity).build();
                };
            }
        }
    }
}
