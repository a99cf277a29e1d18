package dev.leaderpod.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.ElectionSettings.Setting;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** docs/design.md, "Validated timings": timings are validated at construction with messages that name the setting. */
class ElectionSettingsTest {

    private static ElectionSettings settings(long lease, long renew, long retry, Long timeoutMillis) {
        return new ElectionSettings(
                "orders",
                "me",
                Duration.ofSeconds(lease),
                Duration.ofSeconds(renew),
                Duration.ofSeconds(retry),
                timeoutMillis == null ? null : Duration.ofMillis(timeoutMillis));
    }

    @Test
    void defaultsAreValidAndRequestTimeoutDefaultsToHalfTheRenewDeadline() {
        ElectionSettings settings = ElectionSettings.withDefaults("orders", "me");
        assertThat(settings.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.leaseDurationSeconds()).isEqualTo(15);
    }

    @Test
    void renewDeadlineMustBeShorterThanLeaseDuration() {
        assertThatThrownBy(() -> settings(10, 10, 2, null))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE))
                .hasMessageContaining("renew-deadline")
                .hasMessageContaining("shorter than lease-duration");
    }

    @Test
    void renewDeadlineMustLeaveAMarginForClocksTickingOnePercentApart() {
        // 14.8 s < 15 s, but a leader whose clock runs 1 % slow still leads when a follower whose clock runs 1 % fast
        // has seen 15 s pass: 14.8 x 1.01 = 14.948 > 15 x 0.99 = 14.85.
        assertThatThrownBy(() -> new ElectionSettings(
                        "orders", "me", Duration.ofSeconds(15), Duration.ofMillis(14_800), Duration.ofSeconds(2), null))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE))
                .hasMessageContaining("1.01 x renew-deadline must be less than 0.99 x lease-duration")
                .hasMessageContaining("at most PT14.702S");
        assertThat(new ElectionSettings(
                                "orders",
                                "me",
                                Duration.ofSeconds(15),
                                Duration.ofMillis(14_700),
                                Duration.ofSeconds(2),
                                null)
                        .renewDeadline())
                .isEqualTo(Duration.ofMillis(14_700));
    }

    @Test
    void theLongestRenewDeadlineThatLeavesTheMarginIsAcceptedAndOneNanosecondMoreIsNot() {
        // 15 s / 101 x 99 = 14.702970249 s is 0.99 / 1.01 of the lease duration: the renew deadline must stay below it.
        Duration longest = Duration.ofNanos(14_702_970_248L);

        assertThat(new ElectionSettings("orders", "me", Duration.ofSeconds(15), longest, Duration.ofSeconds(2), null)
                        .renewDeadline())
                .isEqualTo(longest);
        assertThatThrownBy(() -> new ElectionSettings(
                        "orders", "me", Duration.ofSeconds(15), longest.plusNanos(1), Duration.ofSeconds(2), null))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE))
                .hasMessageContaining("at most PT14.702S");
    }

    @Test
    void renewDeadlineMustExceedOnePointTwoRetryPeriods() {
        assertThatThrownBy(() -> settings(15, 12, 10, null))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RETRY_PERIOD));
        assertThat(settings(15, 13, 10, null).retryPeriod()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void durationsMustBePositive() {
        assertThatThrownBy(() -> settings(0, 10, 2, null))
                .hasMessageContaining("lease-duration")
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> settings(15, -1, 2, null)).isInstanceOfSatisfying(InvalidSettingException.class, e -> {
            assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE);
            assertThat(e.rule()).isEqualTo("must be positive");
        });
        assertThatThrownBy(() -> settings(15, 10, 0, null)).hasMessageContaining("retry-period");
        assertThatThrownBy(() -> settings(15, 10, 2, 0L)).hasMessageContaining("request-timeout");
    }

    @Test
    void requestTimeoutMustBeAtMostHalfTheRenewDeadline() {
        assertThat(settings(15, 10, 2, 5000L).requestTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThatThrownBy(() -> settings(15, 10, 2, 5001L))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.REQUEST_TIMEOUT));
    }

    @Test
    void leaseDurationMustBeWholeSeconds() {
        assertThatThrownBy(() -> new ElectionSettings(
                        "orders", "me", Duration.ofMillis(15500), Duration.ofSeconds(10), Duration.ofSeconds(2), null))
                .hasMessageContaining("whole seconds");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Orders", "orders_v2", "-orders", "orders-", "a..b"})
    void leaseNameMustBeAKubernetesObjectName(String name) {
        assertThatThrownBy(() -> ElectionSettings.withDefaults(name, "me"))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.LEASE_NAME));
    }

    @ParameterizedTest
    @ValueSource(strings = {"orders", "orders-v2", "eu.orders", "a", "0"})
    void validLeaseNamesAreAccepted(String name) {
        assertThat(ElectionSettings.withDefaults(name, "me").leaseName()).isEqualTo(name);
    }

    @Test
    void identityMustNotBeEmpty() {
        assertThatThrownBy(() -> ElectionSettings.withDefaults("orders", " ")).hasMessageContaining("identity");
    }
}
