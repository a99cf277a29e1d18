package dev.leaderpod.store.local;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.Presence;
import dev.leaderpod.store.local.FilePresenceStore.Steps;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * What is particular to presence in files: where the files are and what they hold, the lock that keeps a removal
 * from deleting an announcement another process writes meanwhile, and lists that skip what they cannot read.
 */
class FilePresenceStoreTest {

    private static final String LEASE = "billing";
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path root;

    private Path leases;
    private Path candidates;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Logger logger = (Logger) LoggerFactory.getLogger(FilePresenceStore.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void setUp() throws IOException {
        leases = root.toRealPath().resolve("leases");
        candidates = leases.resolve(LEASE + ".candidates");
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(logged);
        threads.shutdownNow();
    }

    /** A store as another process would have: its own in-JVM locks over the same directory. */
    private FilePresenceStore process(Steps steps) {
        return new FilePresenceStore(leases, LEASE, LOCK_TIMEOUT, steps, new ConcurrentHashMap<>());
    }

    private static Presence presence(String identity) {
        return Presence.of(identity, Set.of(LEASE), Map.of());
    }

    private List<String> warnings() {
        return logged.list.stream()
                .filter(event -> event.getLevel().toString().equals("WARN"))
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    // --- the files

    @Test
    void eachCandidateIsAReadableFileInTheCandidatesDirectoryBesideTheLeases() throws IOException {
        new FileLeaseStore(leases); // the lease directory, as the election makes it
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);

        Presence announced =
                store.announce(Presence.of("worker-1", Set.of(LEASE + "-reports", LEASE), Map.of("version", "1.4.2")));

        Path file = candidates.resolve("worker-1.candidate");
        assertThat(Files.readAllLines(file, UTF_8))
                .containsSubsequence(
                        "version=" + announced.version(),
                        "identity=worker-1",
                        "elections=billing,billing-reports",
                        "metadata.version=1.4.2");
        assertThat(store.describe()).isEqualTo("local presence files " + candidates.resolve("*.candidate"));
    }

    @ParameterizedTest(name = "{0} is kept as {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "worker-1.eu_2|worker-1.eu_2.candidate",
                "Worker-1|%57orker-1.candidate",
                ".hidden|%2Ehidden.candidate",
                "..|%2E..candidate",
                "a/b\\c:d|a%2Fb%5Cc%3Ad.candidate",
                "é 1|%C3%A9%201.candidate"
            })
    void identitiesBecomeFileNamesSafeOnEveryFileSystem(String identity, String fileName) {
        assertThat(PresenceFile.fileName(identity)).isEqualTo(fileName);
    }

    @Test
    void longIdentitiesBecomeShortDistinctFileNames() {
        String longest = "é".repeat(253);
        String sibling = "é".repeat(252) + "e";

        String name = PresenceFile.fileName(longest);

        assertThat(name.getBytes(UTF_8).length + ".00000000-0000-0000-0000-000000000000.tmp".length())
                .isLessThanOrEqualTo(255);
        assertThat(name).matches("(%C3%A9){30}~[0-9a-f]{16}\\.candidate");
        assertThat(PresenceFile.fileName(sibling)).isNotEqualTo(name);
    }

    @Test
    void touchesNoFileUntilTheFirstAnnouncement() {
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);

        assertThat(store.list()).isEmpty();
        store.remove("worker-1", "1");

        assertThat(leases).doesNotExist();
    }

    @Test
    void leavesOnlyTheAnnouncementsAndOneLockFileBehindAndCleansUpAfterAKilledWriter() throws IOException {
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);
        Presence a = store.announce(presence("worker-1"));
        store.announce(presence("worker-2"));
        // As a process killed between writing and renaming leaves it.
        Files.writeString(candidates.resolve("worker-3.candidate.0f8fad5b-d9cb-469f-a165-70867728950e.tmp"), "ver");

        store.announce(presence("worker-2"));
        store.remove("worker-1", a.version());

        try (Stream<Path> files = Files.list(candidates)) {
            assertThat(files.map(path -> path.getFileName().toString()))
                    .containsExactlyInAnyOrder("worker-2.candidate", FilePresenceStore.LOCK_FILE);
        }
    }

    @Test
    void aDeletedDirectoryIsMadeAgainByTheNextAnnouncement() throws IOException {
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);
        store.announce(presence("worker-1"));
        deleteRecursively(leases);

        assertThat(store.list()).isEmpty();
        Presence again = store.announce(presence("worker-1"));

        assertThat(new FilePresenceStore(leases, LEASE).list()).containsExactly(again);
    }

    @ParameterizedTest
    @ValueSource(strings = {"../escape", "a/b", "", ".hidden", "with space"})
    void leaseNamesThatAreNotPlainFileNamesAreRejected(String name) {
        assertThatThrownBy(() -> new FilePresenceStore(leases, name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot serve as a file name");
    }

    // --- the lock

    @Test
    void aRemovalNeverDeletesAnAnnouncementThatAnotherProcessWritesMeanwhile() throws Exception {
        CountDownLatch announcerWaits = new CountDownLatch(1);
        FilePresenceStore announcer = process(new Steps() {
            @Override
            public void waitingForLock(Path lockFile) {
                announcerWaits.countDown();
            }
        });
        Presence seen = announcer.announce(presence("worker-1"));
        AtomicReference<Future<Presence>> meanwhile = new AtomicReference<>();
        FilePresenceStore remover = process(new Steps() {
            @Override
            public void beforeRemove(Path file) {
                // The remover found the version it saw; now the candidate, alive after all, announces again.
                Future<Presence> announcing = threads.submit(() -> announcer.announce(presence("worker-1")));
                meanwhile.set(announcing);
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> announcerWaits.getCount() == 0 || announcing.isDone());
            }
        });

        remover.remove("worker-1", seen.version());
        Presence renewed = meanwhile.get().get(5, TimeUnit.SECONDS);

        assertThat(process(Steps.REAL).list()).containsExactly(renewed);
        assertThat(renewed.version()).isNotEqualTo(seen.version());
    }

    @Test
    void aWriteTimesOutWhileAnotherProcessHoldsTheLockButListsGoOn() throws IOException {
        FilePresenceStore impatient = new FilePresenceStore(leases, LEASE, Duration.ofMillis(200));
        Presence announced = impatient.announce(presence("worker-1"));

        // Locked directly, not through a store: to the store this looks like another process.
        try (FileChannel channel = FileChannel.open(
                        candidates.resolve(FilePresenceStore.LOCK_FILE),
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
                FileLock lock = channel.lock()) {
            LeaseStoreException failure =
                    catchThrowableOfType(LeaseStoreException.class, () -> impatient.announce(presence("worker-1")));
            LeaseStoreException removal = catchThrowableOfType(
                    LeaseStoreException.class, () -> impatient.remove("worker-1", announced.version()));

            assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(failure.getMessage()).contains(FilePresenceStore.LOCK_FILE);
            assertThat(removal.kind()).isEqualTo(Kind.TIMEOUT);
            assertThat(impatient.list()).containsExactly(announced);
        }
    }

    // --- lists skip what they cannot read

    @Test
    void aListSkipsCorruptFilesWarningOnceEachAndNeverFails() throws IOException {
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);
        Presence good = store.announce(presence("worker-1"));
        Files.writeString(candidates.resolve("half.candidate"), "# Presence of half\nversion=3\nident");
        Files.writeString(candidates.resolve("worker-2.candidate"), "version=seven\nidentity=worker-2\n");
        Files.writeString(candidates.resolve("worker-3.candidate"), "version=3\nidentity=worker-9\n");
        Files.write(candidates.resolve("worker-4.candidate"), new byte[] {'v', 0, (byte) 0xff, (byte) 0xfe});

        assertThat(store.list()).containsExactly(good);
        assertThat(store.list()).containsExactly(good);

        assertThat(warnings())
                .hasSize(4)
                .anySatisfy(line -> assertThat(line).contains("half.candidate", "no 'identity' line"))
                .anySatisfy(line -> assertThat(line).contains("worker-2.candidate", "'version=seven'"))
                .anySatisfy(line -> assertThat(line).contains("worker-3.candidate", "announces worker-9"))
                .anySatisfy(line -> assertThat(line).contains("worker-4.candidate", "not UTF-8"));
    }

    @Test
    void aCorruptFileIsWarnedAboutAgainOnlyAfterItWasFixed() throws IOException {
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);
        Presence announced = store.announce(presence("worker-1"));
        Path file = candidates.resolve("worker-1.candidate");
        Files.writeString(file, "garbage");
        store.list();
        store.list();

        Presence fixed = store.announce(presence("worker-1")); // its candidate writes it anew
        assertThat(store.list()).containsExactly(fixed);
        Files.writeString(file, "garbage again");
        store.list();

        assertThat(warnings()).hasSize(2);
        assertThat(fixed.version()).isNotEqualTo(announced.version());
    }

    @Test
    void aRemovalOfACorruptFileIsReportedNamingTheFile() throws IOException {
        FilePresenceStore store = new FilePresenceStore(leases, LEASE);
        store.announce(presence("worker-1"));
        Files.writeString(candidates.resolve("worker-1.candidate"), "version=1\n");

        assertThatThrownBy(() -> store.remove("worker-1", "1"))
                .isInstanceOf(LeaseStoreException.class)
                .hasMessageContaining("worker-1.candidate is corrupt");
    }

    private static void deleteRecursively(Path path) throws IOException {
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path each : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(each);
            }
        }
    }
}
