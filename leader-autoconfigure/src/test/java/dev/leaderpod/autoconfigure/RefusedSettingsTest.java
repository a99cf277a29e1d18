package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.ElectionSettings.Setting;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The largest values the failure analyses suggest are exactly the largest that the election accepts. */
class RefusedSettingsTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 10, 15, 20, 30, 60, 137})
    void theSuggestedRenewDeadlineIsTheLargestAccepted(int leaseSeconds) {
        Duration leaseDuration = Duration.ofSeconds(leaseSeconds);
        Duration max = RefusedSettings.maxRenewDeadline(leaseDuration);
        Duration retryPeriod = Duration.ofMillis(max.toMillis() / 2);

        assertThatCode(() -> settings(leaseDuration, max, retryPeriod)).doesNotThrowAnyException();
        assertThatThrownBy(() -> settings(leaseDuration, max.plusMillis(1), retryPeriod))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RENEW_DEADLINE));
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 1000, 6000, 9801, 10_000, 12_345})
    void theSuggestedRetryPeriodIsTheLargestAccepted(int renewMillis) {
        Duration renewDeadline = Duration.ofMillis(renewMillis);
        Duration leaseDuration = Duration.ofSeconds(renewDeadline.toSeconds() * 2 + 1);
        Duration max = RefusedSettings.maxRetryPeriod(renewDeadline);

        assertThatCode(() -> settings(leaseDuration, renewDeadline, max)).doesNotThrowAnyException();
        assertThatThrownBy(() -> settings(leaseDuration, renewDeadline, max.plusMillis(1)))
                .isInstanceOfSatisfying(
                        InvalidSettingException.class,
                        e -> assertThat(e.setting()).isEqualTo(Setting.RETRY_PERIOD));
    }

    private static ElectionSettings settings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        return new ElectionSettings("billing", "me", leaseDuration, renewDeadline, retryPeriod, null);
    }
}
