package dev.leaderpod.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.leaderpod.core.LeaseConflictException;
import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import dev.leaderpod.store.local.FileLeaseStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The file store meets the contract, with each candidate on its own store instance over one directory. It watches, so
 * the contract's watch cases run; {@code store.local.FileLeaseStoreWatchTest} covers what is particular to files.
 */
class FileLeaseStoreContractTest extends LeaseStoreContractTest {

    @TempDir
    Path directory;

    private FileLeaseStore store;

    @BeforeEach
    void createStore() {
        store = new FileLeaseStore(directory);
    }

    @Override
    protected LeaseStore store() {
        return store;
    }

    // A new instance each time: instances in one JVM must not trip over each other's OS file locks.
    @Override
    protected LeaseStore anotherCandidatesStore() {
        return new FileLeaseStore(directory);
    }

    private Path leaseFile() {
        return directory.resolve(NAME + ".lease");
    }

    @Test
    void watches() {
        // The contract's watch cases skip a store that cannot watch; this one must not be skipped.
        assertThat(store.watch(NAME, new RecordingWatcher())).hasValueSatisfying(LeaseWatch::close);
    }

    @Test
    void writesAHumanReadableFileNamedAfterTheLease() throws IOException {
        VersionedLease created = store.create(NAME, HELD_BY_A);

        assertThat(Files.readAllLines(leaseFile(), UTF_8))
                .contains(
                        "version=" + created.version(),
                        "holderIdentity=candidate-a",
                        "leaseDurationSeconds=15",
                        "acquireTime=2024-05-01T10:15:30.123456Z",
                        "renewTime=2024-05-01T10:15:32.654321Z",
                        "leaseTransitions=3");
        assertThat(store.describe(NAME))
                .isEqualTo("local lease file " + leaseFile().toRealPath());
    }

    @Test
    void theFileNamesTheApplicationAndKeepsFullFencingTokens() throws IOException {
        long beyondInt = (1L << 40) + 3;
        store.create(NAME, heldByFor("candidate-a", beyondInt, "BillingService"));

        assertThat(Files.readAllLines(leaseFile(), UTF_8))
                .contains("application=BillingService", "leaseTransitions=" + beyondInt);
    }

    @Test
    void recreatedLeaseDoesNotReuseVersionsOfTheDeletedOne() throws IOException {
        VersionedLease first = store.create(NAME, HELD_BY_A);
        Files.delete(leaseFile()); // by hand
        VersionedLease second = store.create(NAME, HELD_BY_A);

        assertThat(second.version()).isNotEqualTo(first.version());
        assertThatThrownBy(() -> store.update(NAME, HELD_BY_A, first.version()))
                .isInstanceOf(LeaseConflictException.class);
    }

    @Test
    void readsAndUpdatesAHandWrittenFile() throws IOException {
        Files.writeString(leaseFile(), """
                # written by hand
                version = 41
                holderIdentity = candidate-z
                leaseDurationSeconds = 20
                """);

        VersionedLease lease = store.get(NAME).orElseThrow();
        VersionedLease updated = store.update(NAME, HELD_BY_A, lease.version());

        assertThat(lease.record()).isEqualTo(new LeaseRecord("candidate-z", Duration.ofSeconds(20), null, null, null));
        assertThat(updated.version()).isEqualTo("42");
    }

    @Test
    void missingFieldsReadAsNull() throws IOException {
        Files.writeString(leaseFile(), "version=4\n");

        assertThat(store.get(NAME)).contains(new VersionedLease(new LeaseRecord(null, null, null, null, null), "4"));
    }

    @Test
    void unusualValuesRoundTripExactly() {
        LeaseRecord unusual = new LeaseRecord(
                " lead=er:#1 \\ é\n\t日本 ",
                Duration.ofMillis(1500),
                Instant.parse("2024-05-01T10:15:30.123456789Z"),
                null,
                Long.MAX_VALUE);

        VersionedLease created = store.create(NAME, unusual);

        assertThat(anotherCandidatesStore().get(NAME)).contains(created);
        assertThat(created.record()).isEqualTo(unusual);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "this is not a lease",
                "version=three",
                "version=3\nleaseDurationSeconds=fifteen",
                "version=3\nacquireTime=yesterday",
                "version=3\nleaseTransitions=3.5",
                "version=3\nholderIdentity=\\uZZZZ"
            })
    void corruptFileIsReportedNamingTheFile(String content) throws IOException {
        Files.writeString(leaseFile(), content);

        assertCorrupt(() -> store.get(NAME));
        assertCorrupt(() -> store.update(NAME, HELD_BY_A, "3"));
    }

    @Test
    void fileThatIsNotTextIsReportedNamingTheFile() throws IOException {
        Files.write(leaseFile(), new byte[] {'v', 0, (byte) 0xff, (byte) 0xfe, (byte) 0xc3});

        assertCorrupt(() -> store.get(NAME));
    }

    private void assertCorrupt(Runnable call) throws IOException {
        LeaseStoreException failure = catchThrowableOfType(LeaseStoreException.class, call::run);
        assertThat(failure).isNotNull().isNotInstanceOf(LeaseConflictException.class);
        assertThat(failure.kind()).isEqualTo(Kind.OTHER);
        assertThat(failure.getMessage()).contains(leaseFile().toRealPath().toString(), "corrupt");
    }

    @Test
    void twoStoreInstancesOnOneDirectoryBehaveAsOne() {
        FileLeaseStore other = new FileLeaseStore(directory.resolve("..").resolve(directory.getFileName()));
        VersionedLease created = store.create(NAME, HELD_BY_A);

        VersionedLease renewed = other.update(
                NAME, heldBy("candidate-b", 4), other.get(NAME).orElseThrow().version());

        assertThat(store.get(NAME)).contains(renewed);
        assertThatThrownBy(() -> store.update(NAME, HELD_BY_A, created.version()))
                .isInstanceOf(LeaseConflictException.class);
        assertThatThrownBy(() -> other.create(NAME, HELD_BY_A)).isInstanceOf(LeaseConflictException.class);
    }

    @Test
    void createsTheDirectoryIfMissing() {
        Path nested = directory.resolve("a/b/leases");

        new FileLeaseStore(nested).create(NAME, HELD_BY_A);

        assertThat(nested.resolve(NAME + ".lease")).isRegularFile();
    }

    @Test
    void directoryThatCannotBeCreatedIsReportedNamingIt() throws IOException {
        Path plainFile = Files.writeString(directory.resolve("plain-file"), "not a directory");
        Path impossible = plainFile.resolve("leases");

        assertThatThrownBy(() -> new FileLeaseStore(impossible))
                .isInstanceOf(LeaseStoreException.class)
                .hasMessageContaining("cannot create lease directory " + impossible.toAbsolutePath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"../escape", "a/b", "", ".hidden", "with space"})
    void leaseNamesThatAreNotPlainFileNamesAreRejected(String name) {
        assertThatThrownBy(() -> store.get(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot serve as a file name");
    }

    @Test
    void leavesOnlyTheLeaseAndLockFilesBehind() throws IOException {
        VersionedLease lease = store.create(NAME, HELD_BY_A);
        lease = store.update(NAME, heldBy("candidate-a", 4), lease.version());
        assertThatThrownBy(() -> store.create(NAME, HELD_BY_A)).isInstanceOf(LeaseConflictException.class);
        store.update(NAME, heldBy("candidate-a", 5), lease.version());

        try (Stream<Path> files = Files.list(directory)) {
            assertThat(files.map(path -> path.getFileName().toString()))
                    .containsExactlyInAnyOrder(NAME + ".lease", NAME + ".lock");
        }
    }

    @Test
    void writeTimesOutWhileAnotherProcessHoldsTheLockButReadsGoOn() throws IOException {
        FileLeaseStore impatient = new FileLeaseStore(directory, Duration.ofMillis(200));
        VersionedLease created = impatient.create(NAME, HELD_BY_A);

        // Locked directly, not through the store: to the store this looks like another process.
        try (FileChannel channel = FileChannel.open(
                        directory.resolve(NAME + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            long start = System.nanoTime();
            LeaseStoreException failure = catchThrowableOfType(
                    LeaseStoreException.class, () -> impatient.update(NAME, HELD_BY_A, created.version()));
            Duration waited = Duration.ofNanos(System.nanoTime() - start);

            assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(failure.getMessage()).contains(NAME + ".lock");
            assertThat(waited).isBetween(Duration.ofMillis(150), Duration.ofSeconds(3));
            assertThat(impatient.get(NAME)).contains(created);
        }

        assertThat(impatient.update(NAME, HELD_BY_A, created.version()).version())
                .isEqualTo(Long.toString(Long.parseLong(created.version()) + 1));
    }

    /**
     * The point of this store: another process doing compare-and-set on the same file at the same time. Both
     * processes increment {@code leaseTransitions} by read + conditional update, retrying on conflict; a lost
     * update would leave the count short.
     */
    @Test
    @Tag("slow")
    void secondProcessComparingAndSettingConcurrentlyLosesNoUpdate(@TempDir Path scratch) throws Exception {
        int increments = 500;
        Path childErrors = scratch.resolve("child-stderr.txt");
        store.create(NAME, new LeaseRecord("counter", Duration.ofSeconds(15), null, null, 0L));
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                        Incrementer.class.getName(),
                        directory.toString(),
                        Integer.toString(increments))
                .redirectError(childErrors.toFile())
                .start();
        try (BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8));
                Writer input = child.outputWriter(UTF_8)) {
            assertThat(output.readLine()).isEqualTo("ready");
            input.write("go\n");
            input.flush();

            Incrementer.increment(anotherCandidatesStore(), "parent", increments);

            assertThat(output.readLine())
                    .as(() -> "child's stderr: " + readQuietly(childErrors))
                    .isEqualTo("done");
            assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isZero();
        } finally {
            child.destroyForcibly();
        }
        assertThat(store.get(NAME).orElseThrow().record().leaseTransitions()).isEqualTo(2L * increments);
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Runs in the second process of {@link #secondProcessComparingAndSettingConcurrentlyLosesNoUpdate}. */
    public static final class Incrementer {

        public static void main(String[] args) throws IOException {
            FileLeaseStore store = new FileLeaseStore(Path.of(args[0]));
            System.out.println("ready");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, UTF_8)).readLine(); // "go"
            increment(store, "child", Integer.parseInt(args[1]));
            System.out.println("done");
            System.out.flush();
        }

        static void increment(LeaseStore store, String holder, int times) {
            for (int done = 0; done < times; ) {
                VersionedLease current = store.get(NAME).orElseThrow();
                LeaseRecord next = new LeaseRecord(
                        holder,
                        current.record().leaseDuration(),
                        null,
                        null,
                        current.record().leaseTransitions() + 1);
                try {
                    store.update(NAME, next, current.version());
                    done++;
                } catch (LeaseConflictException lostTheRace) {
                    // Read again and retry.
                }
            }
        }
    }
}
