package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class CandidacyTest {

    @Test
    void standingOnlyWhileAddsAConditionAndKeepsPatienceAndSuccessor() {
        AtomicBoolean ownStanding = new AtomicBoolean(true);
        AtomicBoolean condition = new AtomicBoolean(true);
        Candidacy base = new Candidacy() {
            @Override
            public boolean standing() {
                return ownStanding.get();
            }

            @Override
            public Duration patience() {
                return Duration.ofMillis(500);
            }

            @Override
            public String successor(String leaseName) {
                return "next-of-" + leaseName;
            }
        };

        Candidacy gated = base.standingOnlyWhile(condition::get);

        assertThat(gated.standing()).isTrue();
        condition.set(false);
        assertThat(gated.standing()).isFalse();
        condition.set(true);
        ownStanding.set(false);
        assertThat(gated.standing()).isFalse();
        assertThat(gated.patience()).isEqualTo(Duration.ofMillis(500));
        assertThat(gated.successor("jobs")).isEqualTo("next-of-jobs");
    }
}
