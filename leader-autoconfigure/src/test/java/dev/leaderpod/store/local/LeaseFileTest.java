package dev.leaderpod.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.LeaseRecord;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.VersionedLease;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The lease file's text alone: what is written reads back unchanged, and older files still read. */
class LeaseFileTest {

    private static final Path FILE = Path.of("/leases/billing.lease");

    private static VersionedLease roundTrip(LeaseRecord record, long version) {
        return LeaseFile.parse(FILE, LeaseFile.format("billing", record, version));
    }

    @Test
    void everyFieldRoundTripsIncludingTheApplication() {
        LeaseRecord record = new LeaseRecord(
                " lead=er:#1 \\ é\n\t日本 ",
                Duration.ofMillis(1500),
                Instant.parse("2024-05-01T10:15:30.123456789Z"),
                Instant.parse("2024-05-01T10:15:32.654321Z"),
                3L,
                "Billing Service = #1\n");

        assertThat(roundTrip(record, 42)).isEqualTo(new VersionedLease(record, "42"));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Integer.MAX_VALUE + 5L, Long.MAX_VALUE, -1, Long.MIN_VALUE})
    void fencingTokensAndVersionsKeepAllSixtyFourBits(long value) {
        LeaseRecord record = new LeaseRecord("candidate-a", Duration.ofSeconds(15), null, null, value, "billing");

        VersionedLease read = roundTrip(record, value);

        assertThat(read.record().leaseTransitions()).isEqualTo(value);
        assertThat(read.version()).isEqualTo(Long.toString(value));
    }

    @Test
    void absentFieldsWriteNoLineAndReadAsNull() {
        LeaseRecord empty = new LeaseRecord(null, null, null, null, null, null);

        String text = LeaseFile.format("billing", empty, 7);

        assertThat(text.lines().filter(line -> !line.startsWith("#"))).containsExactly("version=7");
        assertThat(LeaseFile.parse(FILE, text)).isEqualTo(new VersionedLease(empty, "7"));
    }

    @Test
    void theApplicationIsALineOfItsOwn() {
        LeaseRecord record = new LeaseRecord("candidate-a", null, null, null, 1L, "BillingService");

        assertThat(LeaseFile.format("billing", record, 7).lines()).contains("application=BillingService");
    }

    @Test
    void aFileWrittenBeforeApplicationsWereRecordedReadsAsNoApplication() {
        VersionedLease read = LeaseFile.parse(FILE, """
                # Lease billing. Replaced atomically on every write; edit only while no candidate runs.
                version=42
                holderIdentity=worker-1
                leaseDurationSeconds=15
                leaseTransitions=3
                """);

        assertThat(read)
                .isEqualTo(new VersionedLease(
                        new LeaseRecord("worker-1", Duration.ofSeconds(15), null, null, 3L, null), "42"));
    }

    @Test
    void aReleasesSuccessorIsALineOfItsOwnAndRoundTrips() {
        LeaseRecord release = new LeaseRecord(
                "",
                Duration.ofSeconds(1),
                Instant.parse("2024-05-01T10:15:30.123456Z"),
                Instant.parse("2024-05-01T10:15:32.654321Z"),
                3L,
                "BillingService",
                "worker-2 #1\n");

        String text = LeaseFile.format("billing", release, 7);

        assertThat(text.lines()).contains("successor=worker-2 #1\\n");
        assertThat(LeaseFile.parse(FILE, text)).isEqualTo(new VersionedLease(release, "7"));
    }

    @Test
    void noSuccessorOrAnEmptyOneWritesNoLineAndReadsAsNone() {
        LeaseRecord renewed = new LeaseRecord("worker-2", Duration.ofSeconds(15), null, null, 4L, "billing", "");

        String text = LeaseFile.format("billing", renewed, 8);

        assertThat(text).doesNotContain("successor");
        assertThat(LeaseFile.parse(FILE, text).record().successor()).isNull();
        assertThat(LeaseFile.parse(FILE, "version=8\nsuccessor=\n").record().successor())
                .isNull();
    }

    @Test
    void aFileWrittenBeforeSuccessorsWereRecordedReadsAsNoSuccessor() {
        VersionedLease read = LeaseFile.parse(FILE, """
                # Lease billing. Replaced atomically on every write; edit only while no candidate runs.
                version=42
                application=BillingService
                leaseDurationSeconds=1
                acquireTime=2024-05-01T10:15:30.123456Z
                renewTime=2024-05-01T10:15:32.654321Z
                leaseTransitions=3
                """);

        assertThat(read)
                .isEqualTo(new VersionedLease(
                        new LeaseRecord(
                                null,
                                Duration.ofSeconds(1),
                                Instant.parse("2024-05-01T10:15:30.123456Z"),
                                Instant.parse("2024-05-01T10:15:32.654321Z"),
                                3L,
                                "BillingService",
                                null),
                        "42"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "holderIdentity=a", "version=4\nleaseTransitions=99999999999999999999"})
    void textThatIsNotALeaseIsCorruptNamingTheFile(String text) {
        assertThatThrownBy(() -> LeaseFile.parse(FILE, text))
                .isInstanceOf(LeaseStoreException.class)
                .hasMessageContaining(FILE + " is corrupt")
                .hasMessageContaining("delete it to reset the lease");
    }
}
