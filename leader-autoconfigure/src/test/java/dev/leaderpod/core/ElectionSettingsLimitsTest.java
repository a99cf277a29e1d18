package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.ElectionSettings.Setting;
import org.junit.jupiter.api.Test;

/**
 * docs/design.md, "Validated timings": the length limits Kubernetes puts on names (a Lease's name and its
 * {@code holderIdentity}) are accepted up to and including the limit, and a refusal carries what the failure analysis
 * names: the setting, the value and the rule.
 */
class ElectionSettingsLimitsTest {

    @Test
    void aLeaseNameMayBeUpTo253Characters() {
        String longest = "a".repeat(253);

        assertThat(ElectionSettings.withDefaults(longest, "me").leaseName()).isEqualTo(longest);
        assertThatThrownBy(() -> ElectionSettings.withDefaults(longest + "a", "me"))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.LEASE_NAME));
    }

    @Test
    void anIdentityMayBeUpTo253Characters() {
        String longest = "i".repeat(253);

        assertThat(ElectionSettings.withDefaults("orders", longest).identity()).isEqualTo(longest);
        assertThatThrownBy(() -> ElectionSettings.withDefaults("orders", longest + "i"))
                .isInstanceOfSatisfying(InvalidSettingException.class, e -> {
                    assertThat(e.setting()).isEqualTo(Setting.IDENTITY);
                    assertThat(e.value()).isEqualTo(longest + "i");
                    assertThat(e.rule()).isEqualTo("must be at most 253 characters");
                });
    }

    @Test
    void aRefusalNamesTheSettingItsValueAndTheRule() {
        assertThatThrownBy(() -> ElectionSettings.withDefaults("orders", ""))
                .isInstanceOfSatisfying(InvalidSettingException.class, e -> {
                    assertThat(e.setting()).isEqualTo(Setting.IDENTITY);
                    assertThat(e.value()).isEqualTo("");
                    assertThat(e.rule()).isEqualTo("must not be empty");
                    assertThat(e).hasMessage("identity = : must not be empty");
                });
    }
}
