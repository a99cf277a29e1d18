package dev.leaderpod.sample;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.io.TempDir;

/** The scenario on the local store: one lease file shared by three JVMs. */
class LocalStoreProcessesIT extends AbstractSampleProcessesIT {

    @TempDir
    Path leases;

    @Override
    String store() {
        return "local";
    }

    @Override
    List<String> jvmOptions() {
        return List.of();
    }

    @Override
    List<String> storeProperties() {
        return List.of("leader.store=local", "leader.local.directory=" + leases);
    }

    @Override
    Instant renewTimeOfTheLease() throws IOException {
        Properties lease = new Properties();
        try (Reader reader = Files.newBufferedReader(leases.resolve("leaderpod-sample.lease"))) {
            lease.load(reader);
        }
        return Instant.parse(lease.getProperty("renewTime"));
    }

    /** No watch on the local store: a follower notices the release on its next poll, within 1.2 retry periods. */
    @Override
    Duration maxHandOverAfterRelease() {
        return RETRY.multipliedBy(12).dividedBy(10).plus(SLACK);
    }
}
