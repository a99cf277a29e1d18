package dev.leaderpod.store.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

/** Which Lease object the store keeps to write on, when objects arrive out of order. */
class NewestLeasesTest {

    private static final String NAME = "billing";
    private final NewestLeases newest = new NewestLeases();

    @Test
    void anOlderVersionNeverReplacesANewerOneWhereverItComesFrom() {
        newest.offer(NAME, lease("12"), true);

        newest.offer(NAME, lease("11"), false);
        newest.offer(NAME, lease("9"), true);

        assertThat(version()).isEqualTo("12");
    }

    @Test
    void aNewerVersionReplacesWhereverItComesFrom() {
        newest.offer(NAME, lease("12"), true);
        newest.offer(NAME, lease("13"), false);
        assertThat(version()).isEqualTo("13");

        newest.offer(NAME, lease("100"), true);
        assertThat(version()).as("compared as numbers, not text").isEqualTo("100");
    }

    @Test
    void withVersionsThatAreNotNumbersAnAnswerWinsOverAWatchEvent() {
        newest.offer(NAME, lease("a7"), true);

        newest.offer(NAME, lease("b3"), false);
        assertThat(version()).isEqualTo("a7");

        newest.offer(NAME, lease("c1"), true);
        assertThat(version()).isEqualTo("c1");
    }

    @Test
    void aWatchEventIsKeptWhenNothingElseIs() {
        newest.offer(NAME, lease("x"), false);

        assertThat(version()).isEqualTo("x");
    }

    @Test
    void aStaleDeletionDoesNotForgetALeaseCreatedSince() {
        newest.offer(NAME, lease("20"), true);

        newest.deleted(NAME, lease("19"));
        assertThat(version()).isEqualTo("20");

        newest.deleted(NAME, lease("21"));
        assertThat(newest.get(NAME)).isNull();
    }

    @Test
    void aReadThatFindsNoLeaseForgetsIt() {
        newest.offer(NAME, lease("20"), true);

        newest.absent(NAME);

        assertThat(newest.get(NAME)).isNull();
    }

    private String version() {
        return newest.get(NAME).getMetadata().getResourceVersion();
    }

    private static GenericKubernetesResource lease(String version) {
        GenericKubernetesResource lease = new GenericKubernetesResource();
        lease.setMetadata(new ObjectMetaBuilder()
                .withName(NAME)
                .withResourceVersion(version)
                .build());
        return lease;
    }
}
