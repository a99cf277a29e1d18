package dev.leaderpod.benchmarks.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class ChaosMainTest {

    @Test
    void positionalArgumentsKeepTheirMeaningAndEveryFaultClassIsOnByDefault() {
        ChaosHarness.Config config = ChaosMain.parse(new String[] {"fabric8", "120", "3", "7", "2500", "20", "0.5"});

        assertThat(config.elector()).isEqualTo(ChaosHarness.Elector.FABRIC8);
        assertThat(config.store()).isEqualTo(ChaosHarness.Store.KUBERNETES);
        assertThat(config.faultPhase()).isEqualTo(Duration.ofSeconds(120));
        assertThat(config.candidates()).isEqualTo(3);
        assertThat(config.seed()).isEqualTo(7);
        assertThat(config.finalOutage()).isEqualTo(Duration.ofMillis(2500));
        assertThat(config.maxClockOffset()).isEqualTo(Duration.ofSeconds(20));
        assertThat(config.maxRateError()).isEqualTo(0.005);
        assertThat(config.faultClasses()).isEqualTo(EnumSet.allOf(FaultClass.class));
        assertThat(config.elections()).isEqualTo(1);
        assertThat(config.leases()).containsExactly("chaos");
    }

    @Test
    void severalElectionsEachWithALeaseOfItsOwn() {
        ChaosHarness.Config config = ChaosMain.parse(new String[] {"ours", "120", "4", "--elections=3"});

        assertThat(config.elections()).isEqualTo(3);
        assertThat(config.candidates()).isEqualTo(4);
        assertThat(config.leases()).containsExactly("chaos-0", "chaos-1", "chaos-2");
    }

    @Test
    void optionsChooseTheStoreAndTheFaultClassesAnywhereAmongTheArguments() {
        ChaosHarness.Config config = ChaosMain.parse(
                new String[] {"ours", "--store=local", "60", "--faults=classic,errors", "5", "--without=crashes"});

        assertThat(config.store()).isEqualTo(ChaosHarness.Store.LOCAL);
        assertThat(config.faultPhase()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.candidates()).isEqualTo(5);
        assertThat(config.faultClasses())
                .containsExactlyInAnyOrder(
                        FaultClass.NETWORK, FaultClass.SERVER, FaultClass.STORE, FaultClass.PAUSES, FaultClass.ERRORS);
        assertThat(config.activeFaultClasses())
                .containsExactlyInAnyOrder(FaultClass.STORE, FaultClass.PAUSES, FaultClass.ERRORS);
    }

    @Test
    void noFaultClassesAtAll() {
        assertThat(ChaosMain.parse(new String[] {"--faults=none"}).faultClasses())
                .isEmpty();
    }

    @Test
    void refusesWhatItDoesNotKnow() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> ChaosMain.parse(new String[] {"--faults=meteor"}))
                .withMessageContaining("unknown fault class 'meteor'")
                .withMessageContaining("third-party");
        assertThatIllegalArgumentException().isThrownBy(() -> ChaosMain.parse(new String[] {"--colour=red"}));
        assertThatIllegalArgumentException()
                .isThrownBy(() -> ChaosMain.parse(new String[] {"fabric8", "--store=local"}))
                .withMessageContaining("fabric8 has no local store");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> ChaosMain.parse(new String[] {"fabric8", "--elections=2"}))
                .withMessageContaining("ours only");
        assertThatIllegalArgumentException().isThrownBy(() -> ChaosMain.parse(new String[] {"--elections=0"}));
    }
}
