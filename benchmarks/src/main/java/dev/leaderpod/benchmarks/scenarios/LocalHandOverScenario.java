package dev.leaderpod.benchmarks.scenarios;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.leaderpod.benchmarks.contenders.Timings;
import dev.leaderpod.benchmarks.support.Report;
import dev.leaderpod.benchmarks.support.Stats;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.RevocationReason;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.local.FileLeaseStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Graceful hand-over on the local store between processes: three candidate JVMs elect through one lease directory
 * with {@link FileLeaseStore}, default timings; the leader is told to stop (its {@link LeaseElector#stop}, release
 * included) and the time from the start of that stop until another JVM is granted is measured, {@code rounds} times,
 * a fresh JVM replacing the stopped one each round. Once with followers watching the lease file, once with the watch
 * off (followers poll every retry period), in the same run.
 *
 * <p>Both ends are timed by the candidates themselves, in wall-clock microseconds of the one machine they share. The
 * lease is created released before the candidates start: an absent lease is otherwise waited out for a lease duration
 * (docs/design.md, "Third parties cannot make two leaders"), which would only make the run longer.
 */
public final class LocalHandOverScenario {

    private static final String LEASE = "local-handover";
    /** As {@link HandOverScenario}: followers caught up (watch open, lease observed) before the leader stops. */
    private static final Duration SETTLE = Duration.ofMillis(2500);

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration GRANT_TIMEOUT = Duration.ofSeconds(40);

    private final int rounds;

    public LocalHandOverScenario(int rounds) {
        this.rounds = rounds;
    }

    public void run(Report report) throws IOException {
        report.line("## Local store: graceful hand-over between processes (3 candidate JVMs, default timings "
                + Timings.DEFAULTS + ")");
        report.line("");
        report.line("Time from the start of the leader's stop (its release included) until another candidate JVM is"
                + " granted, in ms. Three JVMs on one lease directory (`FileLeaseStore`), " + rounds
                + " rounds per mode, a fresh JVM replacing the stopped one each round; followers watching the lease"
                + " file, then the same with the watch off (`leader.watch=false`: followers poll every retry period).");
        report.line("");
        List<String> names = List.of("watch on (default)", "watch off (polling)");
        List<Result> results = List.of(measure(true), measure(false));
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            Stats stats = Stats.of(results.get(i).millis());
            rows.add(List.of(
                    names.get(i),
                    String.valueOf(stats.count()),
                    Report.ms(stats.median()),
                    Report.ms(stats.p90()),
                    Report.ms(stats.max())));
        }
        report.table(List.of("followers", "n", "median ms", "p90 ms", "max ms"), rows);
        for (int i = 0; i < names.size(); i++) {
            report.line("- " + names.get(i) + ": " + results.get(i).note());
        }
        report.line("");
        report.line("Where the time goes, median ms of each step: the leader's stop until its release is written"
                + " (revocation, then the release: a write to a temporary file, fsync, rename, directory fsync); until"
                + " the follower that is granted next sees the release (through its watch, or the read of its next"
                + " poll; below zero when it sees the rename before the leader's directory fsync returns); until it"
                + " is granted (its own write, then the listener, on code paths that JVM had not run yet).");
        report.line("");
        List<List<String>> steps = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            Result result = results.get(i);
            steps.add(List.of(
                    names.get(i),
                    Report.ms(Stats.of(result.stopToRelease()).median()),
                    Report.ms(Stats.of(result.releaseToSeen()).median()),
                    Report.ms(Stats.of(result.seenToGrant()).median())));
        }
        report.table(List.of("followers", "stop → release written", "→ release seen", "→ granted"), steps);
        for (int i = 0; i < names.size(); i++) {
            Result result = results.get(i);
            List<String> each = new ArrayList<>();
            for (int round = 0; round < result.stopToRelease().size(); round++) {
                each.add(Report.num(result.stopToRelease().get(round), 0) + "/"
                        + Report.num(result.releaseToSeen().get(round), 0) + "/"
                        + Report.num(result.seenToGrant().get(round), 0));
            }
            report.line("- " + names.get(i) + ", each round (ms per step): " + String.join(", ", each));
        }
        report.line("");
    }

    record Result(
            List<Double> millis,
            List<Double> stopToRelease,
            List<Double> releaseToSeen,
            List<Double> seenToGrant,
            String note) {}

    Result measure(boolean watch) throws IOException {
        Path directory = Files.createTempDirectory("leaderpod-local-handover-");
        new FileLeaseStore(directory)
                .create(LEASE, new LeaseRecord("", Duration.ofSeconds(1), null, null, 0L)); // released
        List<Jvm> candidates = new ArrayList<>();
        List<Double> millis = new ArrayList<>();
        List<Double> stopToRelease = new ArrayList<>();
        List<Double> releaseToSeen = new ArrayList<>();
        List<Double> seenToGrant = new ArrayList<>();
        List<String> mode = List.of(Boolean.toString(watch));
        int timeouts = 0;
        int overlaps = 0;
        int serial = 0;
        try {
            for (; serial < 3; serial++) {
                candidates.add(Jvm.start(directory, "c" + serial, mode));
            }
            for (int round = 0; round < rounds; round++) {
                if (!Await.until(() -> candidates.stream().allMatch(Jvm::started), START_TIMEOUT)
                        || !Await.until(() -> leaders(candidates).size() == 1, GRANT_TIMEOUT)) {
                    timeouts++;
                    continue;
                }
                Await.sleep(SETTLE.toMillis());
                Jvm leader = leaders(candidates).get(0);
                leader.send("stop");
                if (!Await.until(() -> leader.last("stopping") != null, GRANT_TIMEOUT)) {
                    timeouts++;
                    continue;
                }
                long stopping = leader.last("stopping").atMicros();
                candidates.remove(leader);
                boolean granted = Await.until(() -> firstGrantAfter(candidates, stopping) != null, GRANT_TIMEOUT);
                if (granted) {
                    millis.add((firstGrantAfter(candidates, stopping).atMicros() - stopping) / 1000.0);
                } else {
                    timeouts++;
                }
                // Two leaders at once would be a grant before the old leader's revocation, the first step of its stop.
                Await.until(() -> leader.last("stopped") != null, GRANT_TIMEOUT);
                Event revoked = leader.last("revoked");
                Event grant = firstGrantAfter(candidates, stopping);
                if (grant != null && (revoked == null || grant.atMicros() < revoked.atMicros())) {
                    overlaps++;
                }
                Event released = leader.last("released");
                Event seen = grant == null ? null : firstAfter(candidates, "seen", grant.identity(), stopping);
                if (released != null && seen != null) {
                    stopToRelease.add((released.atMicros() - stopping) / 1000.0);
                    releaseToSeen.add((seen.atMicros() - released.atMicros()) / 1000.0);
                    seenToGrant.add((grant.atMicros() - seen.atMicros()) / 1000.0);
                }
                leader.close();
                candidates.add(Jvm.start(directory, "c" + serial++, mode));
            }
        } finally {
            candidates.forEach(Jvm::close);
            deleteQuietly(directory);
        }
        return new Result(
                millis,
                stopToRelease,
                releaseToSeen,
                seenToGrant,
                timeouts + " rounds without a grant in time; " + overlaps
                        + " rounds where another was granted before the old leader's revocation; each round, ms: "
                        + millis.stream().map(value -> Report.num(value, 1)).toList());
    }

    private static List<Jvm> leaders(List<Jvm> candidates) {
        return candidates.stream().filter(Jvm::leads).toList();
    }

    private static Event firstAfter(List<Jvm> candidates, String kind, String identity, long micros) {
        return candidates.stream()
                .flatMap(jvm -> jvm.events.stream())
                .filter(event ->
                        event.kind().equals(kind) && event.identity().equals(identity) && event.atMicros() >= micros)
                .min(Comparator.comparingLong(Event::atMicros))
                .orElse(null);
    }

    private static Event firstGrantAfter(List<Jvm> candidates, long micros) {
        return candidates.stream()
                .flatMap(jvm -> jvm.events.stream())
                .filter(event -> event.kind().equals("granted") && event.atMicros() >= micros)
                .min(Comparator.comparingLong(Event::atMicros))
                .orElse(null);
    }

    private static void deleteQuietly(Path directory) {
        try (Stream<Path> tree = Files.walk(directory)) {
            for (Path each : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(each);
            }
        } catch (IOException | UncheckedIOException e) {
            // a temporary directory: the OS cleans it eventually
        }
    }

    private static long nowMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    /** One event line of a candidate JVM: {@code EVENT <kind> <identity> <epochMicros>}. */
    record Event(String kind, String identity, long atMicros) {}

    /** A candidate JVM started by the scenario, with its event lines collected. */
    private static final class Jvm implements AutoCloseable {
        final String identity;
        final Process process;
        final Writer input;
        final List<Event> events = new CopyOnWriteArrayList<>();

        private Jvm(String identity, Process process) {
            this.identity = identity;
            this.process = process;
            this.input = process.outputWriter(UTF_8);
            Thread reader = new Thread(this::readOutput, "output-" + identity);
            reader.setDaemon(true);
            reader.start();
        }

        static Jvm start(Path directory, String identity, List<String> mode) throws IOException {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    // Small and quick to start: three of them share two cores with the harness.
                    "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC",
                    "-Xmx64m",
                    "-Xshare:auto",
                    "-cp",
                    System.getProperty("java.class.path"),
                    CandidateMain.class.getName(),
                    directory.toString(),
                    identity));
            command.addAll(mode);
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            return new Jvm(identity, process);
        }

        private void readOutput() {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    String[] parts = line.split(" ");
                    if (parts.length == 4 && parts[0].equals("EVENT")) {
                        events.add(new Event(parts[1], parts[2], Long.parseLong(parts[3])));
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }

        boolean started() {
            return last("started") != null;
        }

        boolean leads() {
            long granted =
                    events.stream().filter(e -> e.kind().equals("granted")).count();
            long revoked =
                    events.stream().filter(e -> e.kind().equals("revoked")).count();
            return process.isAlive() && last("stopping") == null && granted > revoked;
        }

        Event last(String kind) {
            Event last = null;
            for (Event event : events) {
                if (event.kind().equals(kind)) {
                    last = event;
                }
            }
            return last;
        }

        void send(String command) {
            try {
                input.write(command + "\n");
                input.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    /**
     * A candidate in its own JVM: our elector on a {@link FileLeaseStore}, default timings. Arguments: lease directory,
     * identity, whether to watch. Prints {@code EVENT started|granted|revoked|stopping|stopped <identity>
     * <epochMicros>}; on the line {@code stop} on its input it stops gracefully (release included) and exits.
     */
    public static final class CandidateMain {

        public static void main(String[] args) throws IOException {
            String identity = args[1];
            ElectionSettings settings = new ElectionSettings(
                    LEASE,
                    identity,
                    Timings.DEFAULTS.leaseDuration(),
                    Timings.DEFAULTS.renewDeadline(),
                    Timings.DEFAULTS.retryPeriod(),
                    null);
            LeaseStore store = new Timed(new FileLeaseStore(Path.of(args[0]), settings.requestTimeout()), identity);
            LeaseElector elector = LeaseElector.builder(settings, store)
                    .watch(Boolean.parseBoolean(args[2]))
                    .listener(new LeadershipListener() {
                        @Override
                        public void onStartedLeading(LeadershipTerm term) {
                            event("granted", identity);
                        }

                        @Override
                        public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                            event("revoked", identity);
                        }
                    })
                    .build();
            elector.start();
            event("started", identity);
            BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, UTF_8));
            String command;
            while ((command = commands.readLine()) != null) {
                if (command.equals("stop")) {
                    event("stopping", identity);
                    elector.stop(Duration.ofSeconds(10));
                    event("stopped", identity);
                    break;
                }
            }
            System.exit(0);
        }

        private static void event(String kind, String identity) {
            System.out.println("EVENT " + kind + " " + identity + " " + nowMicros());
        }
    }

    /** The candidate's store, printing when it wrote a release ({@code released}) and when it saw one ({@code seen}). */
    private static final class Timed implements LeaseStore {
        private final LeaseStore store;
        private final String identity;

        Timed(LeaseStore store, String identity) {
            this.store = store;
            this.identity = identity;
        }

        private void seen(Optional<VersionedLease> lease) {
            if (lease.isPresent() && !lease.get().record().isHeld()) {
                CandidateMain.event("seen", identity);
            }
        }

        @Override
        public Optional<VersionedLease> get(String name) {
            Optional<VersionedLease> lease = store.get(name);
            seen(lease);
            return lease;
        }

        @Override
        public VersionedLease create(String name, LeaseRecord record) {
            return store.create(name, record);
        }

        @Override
        public VersionedLease update(String name, LeaseRecord record, String expectedVersion) {
            VersionedLease written = store.update(name, record, expectedVersion);
            if (!record.isHeld()) {
                CandidateMain.event("released", identity);
            }
            return written;
        }

        @Override
        public Optional<LeaseWatch> watch(String name, LeaseWatcher watcher) {
            return store.watch(name, new LeaseWatcher() {
                @Override
                public void onChange(Optional<VersionedLease> lease) {
                    seen(lease);
                    watcher.onChange(lease);
                }

                @Override
                public void onClose(Exception cause) {
                    watcher.onClose(cause);
                }
            });
        }

        @Override
        public String describe(String name) {
            return store.describe(name);
        }
    }
}
