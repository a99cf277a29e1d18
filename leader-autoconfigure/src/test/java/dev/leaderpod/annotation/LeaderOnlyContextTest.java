package dev.leaderpod.annotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.LeadershipTerm;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The term bound to a thread for the code of a {@code @LeaderOnly} call, and for unit tests of such code. */
class LeaderOnlyContextTest {

    private static final LeadershipTerm OUTER = new LeadershipTerm("orders", "me", 3, Instant.EPOCH);
    private static final LeadershipTerm INNER = new LeadershipTerm("reports", "me", 8, Instant.EPOCH);

    @Test
    void aBindingIsSeenUntilItsScopeClosesAndANestedOneRestoresTheOuter() {
        assertThat(LeaderOnlyContext.currentTerm()).isEmpty();
        try (LeaderOnlyContext.Scope outer = LeaderOnlyContext.bind(OUTER)) {
            assertThat(LeaderOnlyContext.fencingToken()).isEqualTo(3);
            try (LeaderOnlyContext.Scope inner = LeaderOnlyContext.bind(INNER)) {
                assertThat(LeaderOnlyContext.currentTerm()).contains(INNER);
                assertThat(LeaderOnlyContext.fencingToken()).isEqualTo(8);
            }
            assertThat(LeaderOnlyContext.currentTerm()).contains(OUTER);
            assertThat(LeaderOnlyContext.identity()).isEqualTo("me");
        }
        assertThat(LeaderOnlyContext.currentTerm()).isEmpty();
    }

    @Test
    void outsideACallTheTokenIsRefusedNamingTheThread() {
        assertThatThrownBy(LeaderOnlyContext::fencingToken)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No @LeaderOnly call is running on thread '"
                        + Thread.currentThread().getName());
    }

    @Test
    void aBindingIsNotSeenByOtherThreads() throws InterruptedException {
        try (LeaderOnlyContext.Scope scope = LeaderOnlyContext.bind(OUTER)) {
            boolean[] seenElsewhere = {true};
            Thread other = new Thread(
                    () -> seenElsewhere[0] = LeaderOnlyContext.currentTerm().isPresent());
            other.start();
            other.join();
            assertThat(seenElsewhere[0]).isFalse();
        }
    }
}
