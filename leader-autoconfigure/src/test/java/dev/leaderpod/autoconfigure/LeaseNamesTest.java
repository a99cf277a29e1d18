package dev.leaderpod.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.leaderpod.core.ElectionSettings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Lease names derived from application names that are no Kubernetes object names. */
class LeaseNamesTest {

    @ParameterizedTest
    @CsvSource({
        "BillingService, billingservice",
        "Billing Service, billing-service",
        "billing_service, billing-service",
        "billing__service!!, billing-service",
        "Zürich Payments, zurich-payments",
        "com.Example..Billing, com.example.billing",
        "-.Billing.-, billing",
        "billing, billing"
    })
    void derivesAValidName(String application, String expected) {
        assertThat(LeaseNames.derive(application)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "___", "日本", "..",
            })
    void derivesNothingFromANameWithoutALetterOrDigitItCanKeep(String application) {
        assertThat(LeaseNames.derive(application)).isNull();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a-very-long-application-name-that-goes-on-and-on-well-beyond-sixty-three-characters",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.-b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b",
            })
    void aLongNameIsTrimmedToAValidNameOfAtMost63Characters(String application) {
        String derived = LeaseNames.derive(application);

        assertThat(derived).hasSizeLessThanOrEqualTo(LeaseNames.MAX_DERIVED_LENGTH);
        assertThatCode(() -> ElectionSettings.requireValidLeaseName(derived)).doesNotThrowAnyException();
        assertThatCode(() -> LeaderElections.leaseName(derived, "reports")).doesNotThrowAnyException();
    }
}
