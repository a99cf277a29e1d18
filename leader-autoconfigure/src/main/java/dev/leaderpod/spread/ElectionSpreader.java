package dev.leaderpod.spread;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.core.ElectionClock;
import dev.leaderpod.core.ElectionRuntime;
import dev.leaderpod.core.ElectionSnapshot;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.Presence;
import dev.leaderpod.core.PresenceStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spreads an application's elections over its live candidates (docs/design.md, "Spreading elections"): each leads
 * ⌊E/N⌋ or ⌈E/N⌉ of them. Every retry period, on the election thread, it counts who leads what (from its own
 * electors' view of their leases) among the candidates {@link PresenceTracker} says are alive, plans the fewest moves
 * to fair shares ({@link FairShares}), and carries out those it gives: a yield naming the successor, one round at a
 * time. It also gives each elector its {@link Candidacy}: less patience for a free lease the fewer elections this
 * candidate leads (so a crashed candidate's elections spread over the survivors), and, when it stops, the least
 * loaded live candidate as successor.
 *
 * <p>Shares are counted among the live candidates that take part in the same elections as this one. Candidates of
 * different sets (during a rolling update that adds an election, or with {@code leader.elections.<name>.enabled=false}
 * on some) do not balance against each other: each would count only the elections it sees and they would hand the
 * same elections back and forth. A stopping candidate still hands an election to any live candidate of it.
 *
 * <p>A candidate that says it is not ready ({@link #READY}{@code =false} in its metadata: docs/design.md, "Leadership
 * follows readiness") takes no lease, so it is left out of the count: it is never chosen as a successor nor given a
 * share, and while this candidate is not ready its hand-overs name successors in turn, as when it leaves.
 *
 * <p>Nothing here can make two leaders or leave an election leaderless for long: a move is a graceful hand-over, a
 * successor that does not take the lease leaves it to anyone after two retry periods (and is not chosen again until
 * it announces itself anew), and patience only orders the candidates. With fewer than two elections it does nothing,
 * not even announce itself.
 */
public final class ElectionSpreader {

    private static final Logger log = LoggerFactory.getLogger(ElectionSpreader.class);

    /** The metadata key in which a candidate says whether it is ready; {@code false} leaves it out of the shares. */
    public static final String READY = "ready";

    /** A move in flight: {@code election} handed to {@code successor} at {@code sinceNanos}. */
    private record Handover(LeaseElector election, String successor, long sinceNanos) {}

    private final String identity;
    private final ElectionRuntime runtime;
    private final ElectionClock clock;
    private final Duration step;
    private final Supplier<Collection<LeaseElector>> electors;
    private final Supplier<Map<String, String>> metadata;
    private final PresenceTracker presence;
    private final Map<String, Long> suspects = new ConcurrentHashMap<>();
    private final Map<String, Integer> handedWhileLeaving = new ConcurrentHashMap<>();

    private volatile boolean running;
    private volatile boolean leaving;
    private volatile ScheduledFuture<?> nextRound;
    private volatile Map<String, Integer> loads = Map.of();
    private volatile long moves;
    // Confined to the election thread.
    private final List<Handover> inFlight = new ArrayList<>();
    private Map<String, Optional<String>> lastView = Map.of();
    private long viewSinceNanos;

    /**
     * @param electors the electors of the elections this candidate takes part in, as they are now
     * @param presenceInterval how often this candidate announces itself
     * @param step how often to look at the shares: the retry period
     * @param metadata what this candidate says about itself to the others (version, readiness)
     */
    public ElectionSpreader(
            String identity,
            PresenceStore store,
            ElectionRuntime runtime,
            ElectionClock clock,
            Duration presenceInterval,
            Duration step,
            Supplier<Collection<LeaseElector>> electors,
            Supplier<Map<String, String>> metadata) {
        this.identity = identity;
        this.runtime = runtime;
        this.clock = clock;
        this.step = step;
        this.electors = electors;
        this.metadata = metadata;
        this.presence = new PresenceTracker(
                store,
                runtime,
                clock,
                presenceInterval,
                () -> new Presence(identity, electionNames(), metadata.get(), null),
                this::soon);
    }

    /** The candidacy of this candidate in every election. */
    public Candidacy candidacy() {
        return new Candidacy() {
            @Override
            public Duration patience() {
                return patienceNow();
            }

            @Override
            public String successor(String leaseName) {
                return successorNow(leaseName);
            }
        };
    }

    /** Starts announcing this candidate and spreading, if it takes part in two elections or more. */
    public synchronized void start() {
        if (running || electors.get().size() < 2) {
            return;
        }
        running = true;
        leaving = false;
        handedWhileLeaving.clear();
        presence.start();
        soon();
    }

    /**
     * Leaves: stops moving elections and removes this candidate's presence, so nobody hands it an election while its
     * electors stop; the electors' releases then name the least loaded live candidates ({@link #candidacy()}). Blocks
     * for at most one store call.
     */
    public synchronized void leave() {
        if (!running) {
            return;
        }
        running = false;
        leaving = true;
        ScheduledFuture<?> round = nextRound;
        if (round != null) {
            round.cancel(false);
        }
        presence.leave();
    }

    /**
     * What this candidate says about itself changed (its readiness): announces it again now rather than at the next
     * interval, and looks at the shares. Once it is ready again, its earlier hand-overs no longer count.
     */
    public void metadataChanged() {
        if (ready(metadata.get())) {
            handedWhileLeaving.clear();
        }
        presence.announceSoon();
        soon();
    }

    /** This candidate's identity. */
    public String identity() {
        return identity;
    }

    /** Whether it spreads: started with two elections or more, and not left. */
    public boolean isRunning() {
        return running;
    }

    /** Elections led per live candidate, as last counted (empty when not spreading). */
    public Map<String, Integer> shares() {
        return loads;
    }

    /** Moves this candidate made since it started. */
    public long moves() {
        return moves;
    }

    /** What the live candidates say about themselves, by identity. */
    public Map<String, Map<String, String>> candidates() {
        return running
                ? presence.alive().values().stream()
                        .collect(Collectors.toMap(Presence::identity, Presence::metadata, (a, b) -> a, TreeMap::new))
                : Map.of();
    }

    private Set<String> electionNames() {
        return electors.get().stream()
                .map(LeaseElector::leaseName)
                .collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    /** Looks at the shares on the election thread soon (a candidate came or went). */
    private void soon() {
        if (running) {
            runtime.schedule(this::round, Duration.ZERO);
        }
    }

    private void scheduleNext() {
        if (running) {
            nextRound = runtime.schedule(this::round, step);
        }
    }

    /** One look at the shares, on the election thread. */
    private void round() {
        if (!running) {
            return;
        }
        ScheduledFuture<?> previous = nextRound;
        if (previous != null) {
            previous.cancel(false);
        }
        try {
            balance();
        } catch (RuntimeException e) {
            log.warn("Spreading elections failed; trying again in {}", step, e);
        } finally {
            scheduleNext();
        }
    }

    private void balance() {
        Collection<LeaseElector> mine = electors.get();
        long now = clock.nanoTime();
        suspectSilentHolders(mine, now);
        Map<String, Presence> alive = presence.alive();
        Map<String, Integer> counted = count(mine, alive);
        loads = counted;
        // A successor that did not take its election in time is not chosen again until it announces itself anew.
        inFlight.removeIf(move -> {
            if (move.election()
                    .observedLeader()
                    .filter(move.successor()::equals)
                    .isPresent()) {
                return true;
            }
            if (now - move.sinceNanos() > step.toNanos() * 3) {
                suspects.put(move.successor(), now);
                log.info(
                        "{} did not take {} in time; not handing it elections until it announces itself again",
                        move.successor(),
                        move.election().leaseName());
                return true;
            }
            return false;
        });
        if (!inFlight.isEmpty() || !settled(mine, now)) {
            return; // one round at a time, on a view that stood still for a step with a leader in every election
        }
        List<LeaseElector> leading = new ArrayList<>(mine.stream()
                .filter(LeaseElector::isLeader)
                .sorted(Comparator.comparing(LeaseElector::leaseName).reversed())
                .toList());
        Set<String> targeted = new java.util.HashSet<>();
        for (FairShares.Move move : FairShares.plan(counted)) {
            if (!move.from().equals(identity) || !targeted.add(move.to())) {
                continue; // one election per successor and round: a successor that died costs one move, not several
            }
            // An election the successor takes part in: one it stays out of would only bounce back.
            Optional<LeaseElector> movable = leading.stream()
                    .filter(election -> takesPart(alive, move.to(), election.leaseName()))
                    .findFirst();
            if (movable.isEmpty()) {
                continue;
            }
            LeaseElector election = movable.get();
            leading.remove(election);
            log.info(
                    "Handing {} to {} to spread elections: this candidate leads {} of {} among {} candidates",
                    election.leaseName(),
                    move.to(),
                    counted.get(identity),
                    mine.size(),
                    counted.size());
            inFlight.add(new Handover(election, move.to(), now));
            moves++;
            election.yieldLeadership(move.to());
        }
    }

    /**
     * Counts as a suspect every candidate holding a lease that this one has not seen change for a renew deadline: a
     * live holder renews every retry period, so that one has stopped (crashed, cut off) even if its presence has not
     * expired yet, and would not take what it is handed. It stays a suspect until it announces itself again.
     */
    private void suspectSilentHolders(Collection<LeaseElector> mine, long now) {
        for (LeaseElector election : mine) {
            if (election.isLeader()) {
                continue;
            }
            ElectionSnapshot seen = election.snapshot();
            Optional<String> holder = seen.observedHolder().filter(who -> !who.equals(identity));
            if (holder.isPresent()
                    && seen.sinceObservedChange()
                            .filter(silence ->
                                    silence.compareTo(election.settings().renewDeadline()) > 0)
                            .isPresent()
                    && suspects.putIfAbsent(holder.get(), now) == null) {
                log.info(
                        "{} has not renewed {} for {}; not handing it elections until it announces itself again",
                        holder.get(),
                        election.leaseName(),
                        seen.sinceObservedChange().get());
            }
        }
    }

    /** Whether {@code candidate} says it takes part in the election of {@code leaseName}. */
    private static boolean takesPart(Map<String, Presence> alive, String candidate, String leaseName) {
        Presence announced = alive.get(candidate);
        return announced != null && announced.elections().contains(leaseName);
    }

    /**
     * Whether every election has a leader and none changed hands for a step: other candidates' moves land first, so
     * that this one does not act on a view they are about to change.
     */
    private boolean settled(Collection<LeaseElector> mine, long now) {
        Map<String, Optional<String>> view = new HashMap<>();
        for (LeaseElector election : mine) {
            view.put(election.leaseName(), election.isLeader() ? Optional.of(identity) : election.observedLeader());
        }
        if (!view.equals(lastView)) {
            lastView = view;
            viewSinceNanos = now;
            return false;
        }
        return view.values().stream().allMatch(Optional::isPresent) && now - viewSinceNanos >= step.toNanos();
    }

    /** Elections led by each live candidate that is not a suspect, zeros included; as this candidate sees them. */
    private Map<String, Integer> count(Collection<LeaseElector> mine, Map<String, Presence> alive) {
        Map<String, Integer> counted = new TreeMap<>();
        Set<String> ours = electionNames();
        for (Map.Entry<String, Presence> candidate : alive.entrySet()) {
            String who = candidate.getKey();
            if (!candidate.getValue().elections().equals(ours)) {
                continue; // shares are counted among candidates of the same elections (see the class comment)
            }
            if (!ready(candidate.getValue().metadata())) {
                continue; // takes nothing: never a successor, never given a share
            }
            Long suspectSince = suspects.get(who);
            if (suspectSince != null) {
                if (presence.changedAtNanos(who)
                        .filter(at -> at - suspectSince > 0)
                        .isEmpty()) {
                    continue;
                }
                suspects.remove(who);
            }
            counted.put(who, 0);
        }
        for (LeaseElector election : mine) {
            Optional<String> holder = election.isLeader() ? Optional.of(identity) : election.observedLeader();
            holder.filter(counted::containsKey).ifPresent(who -> counted.merge(who, 1, Integer::sum));
        }
        return counted;
    }

    /** Whether a candidate with {@code metadata} is ready: unless it says {@code ready=false}. */
    private static boolean ready(Map<String, String> metadata) {
        return !"false".equals(metadata.get(READY));
    }

    /**
     * A quarter of a retry period more for every election this candidate leads above the least loaded; at most half a
     * retry period, so that a takeover after a crash stays within lease duration + retry period ("never stuck"), even
     * when the least loaded candidate is the one that crashed.
     */
    private Duration patienceNow() {
        Map<String, Integer> counted = loads;
        if (!running || counted.size() < 2) {
            return Duration.ZERO;
        }
        int least = counted.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        int own = (int) electors.get().stream().filter(LeaseElector::isLeader).count();
        return step.dividedBy(4).multipliedBy(Math.min(2, Math.max(0, own - least)));
    }

    /**
     * The least loaded live candidate other than this one that takes part in {@code leaseName}, counting what it was
     * handed while this one leaves or is not ready.
     */
    private String successorNow(String leaseName) {
        if (!running && !leaving) {
            return null;
        }
        Map<String, Presence> alive = presence.alive();
        Map<String, Integer> counted =
                new HashMap<>(count(electors.get(), alive)); // as of now: a move may just have landed
        counted.remove(identity);
        counted.keySet().removeIf(who -> !takesPart(alive, who, leaseName));
        handedWhileLeaving.forEach((who, handed) -> counted.computeIfPresent(who, (k, load) -> load + handed));
        String chosen = counted.entrySet().stream()
                .min(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey)
                .or(() -> alive.entrySet().stream() // none of the same elections: any that takes part
                        .filter(other -> !other.getKey().equals(identity)
                                && !suspects.containsKey(other.getKey())
                                && other.getValue().elections().contains(leaseName)
                                && ready(other.getValue().metadata()))
                        .map(Map.Entry::getKey)
                        .findFirst())
                .orElse(null);
        if (chosen != null && (leaving || !ready(metadata.get()))) {
            handedWhileLeaving.merge(chosen, 1, Integer::sum);
        }
        return chosen;
    }
}
