package dev.leaderpod.core;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Timings and names of one election, validated at construction (rules of client-go's leader election):
 * {@code leaseDuration > renewDeadline > 1.2 × retryPeriod > 0}, {@code 1.01 × renewDeadline < 0.99 × leaseDuration}
 * (clocks may tick up to 1 % apart) and {@code requestTimeout ≤ renewDeadline / 2}.
 *
 * @param leaseName name of the lease; a Kubernetes object name (RFC 1123 subdomain)
 * @param identity this candidate's identity, unique among candidates
 * @param leaseDuration how long followers wait, after they last saw the lease change, before taking over
 * @param renewDeadline how long the leader keeps leading after the last renew it sent that succeeded
 * @param retryPeriod how often the leader renews and polling followers retry
 * @param requestTimeout upper bound of one store call
 */
public record ElectionSettings(
        String leaseName,
        String identity,
        Duration leaseDuration,
        Duration renewDeadline,
        Duration retryPeriod,
        Duration requestTimeout) {

    private static final Pattern RFC_1123_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    /** Default lease duration, as client-go and fabric8. */
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);

    /** Default renew deadline. */
    public static final Duration DEFAULT_RENEW_DEADLINE = Duration.ofSeconds(10);

    /** Default retry period. */
    public static final Duration DEFAULT_RETRY_PERIOD = Duration.ofSeconds(2);

    /** The settings, each named by the key users configure it with (prefix {@code leader.}). */
    public enum Setting {
        LEASE_NAME("lease-name"),
        IDENTITY("identity"),
        LEASE_DURATION("lease-duration"),
        RENEW_DEADLINE("renew-deadline"),
        RETRY_PERIOD("retry-period"),
        REQUEST_TIMEOUT("request-timeout");

        private final String key;

        Setting(String key) {
            this.key = key;
        }

        /** The kebab-case key, such as {@code lease-duration}. */
        public String key() {
            return key;
        }
    }

    /** A setting broke a rule; carries enough to name the setting, the value and the rule. */
    public static final class InvalidSettingException extends IllegalArgumentException {

        private final Setting setting;
        private final Object value;
        private final String rule;

        InvalidSettingException(Setting setting, Object value, String rule) {
            super(setting.key() + " = " + value + ": " + rule);
            this.setting = setting;
            this.value = value;
            this.rule = rule;
        }

        public Setting setting() {
            return setting;
        }

        public Object value() {
            return value;
        }

        public String rule() {
            return rule;
        }
    }

    public ElectionSettings {
        requireValidLeaseName(leaseName);
        if (identity == null || identity.isBlank()) {
            throw new InvalidSettingException(Setting.IDENTITY, identity, "must not be empty");
        }
        if (identity.length() > 253) {
            throw new InvalidSettingException(Setting.IDENTITY, identity, "must be at most 253 characters");
        }
        requirePositive(Setting.LEASE_DURATION, leaseDuration);
        requirePositive(Setting.RENEW_DEADLINE, renewDeadline);
        requirePositive(Setting.RETRY_PERIOD, retryPeriod);
        if (leaseDuration.toMillis() % 1000 != 0) {
            throw new InvalidSettingException(
                    Setting.LEASE_DURATION,
                    leaseDuration,
                    "must be whole seconds (a Lease stores leaseDurationSeconds)");
        }
        if (renewDeadline.compareTo(leaseDuration) >= 0) {
            throw new InvalidSettingException(
                    Setting.RENEW_DEADLINE,
                    renewDeadline,
                    "must be shorter than lease-duration (" + leaseDuration
                            + "), so the leader steps down before anyone can take over");
        }
        if (renewDeadline.toNanos() > maxRenewDeadlineNanos(leaseDuration)) {
            throw new InvalidSettingException(
                    Setting.RENEW_DEADLINE,
                    renewDeadline,
                    "must leave lease-duration (" + leaseDuration + ") a margin for clocks that tick up to 1 % apart:"
                            + " 1.01 x renew-deadline must be less than 0.99 x lease-duration, so at most "
                            + Duration.ofMillis(maxRenewDeadlineNanos(leaseDuration) / 1_000_000)
                            + " here (docs/design.md, \"Margin for clock-rate drift\")");
        }
        if (renewDeadline.toNanos() <= retryPeriod.toNanos() * 12 / 10) {
            throw new InvalidSettingException(
                    Setting.RETRY_PERIOD,
                    retryPeriod,
                    "1.2 x retry-period must be shorter than renew-deadline (" + renewDeadline
                            + "), so the leader gets more than one renew attempt per deadline");
        }
        if (requestTimeout == null) {
            requestTimeout = renewDeadline.dividedBy(2);
        }
        requirePositive(Setting.REQUEST_TIMEOUT, requestTimeout);
        if (requestTimeout.compareTo(renewDeadline.dividedBy(2)) > 0) {
            throw new InvalidSettingException(
                    Setting.REQUEST_TIMEOUT,
                    requestTimeout,
                    "must be at most half of renew-deadline (" + renewDeadline
                            + "), so a hung call cannot use up the deadline");
        }
    }

    /** Settings with the default timings. */
    public static ElectionSettings withDefaults(String leaseName, String identity) {
        return new ElectionSettings(
                leaseName, identity, DEFAULT_LEASE_DURATION, DEFAULT_RENEW_DEADLINE, DEFAULT_RETRY_PERIOD, null);
    }

    /**
     * Checks a lease name against the Kubernetes object name rules.
     *
     * @throws InvalidSettingException naming {@link Setting#LEASE_NAME}
     */
    public static void requireValidLeaseName(String leaseName) {
        if (leaseName == null || leaseName.isEmpty()) {
            throw new InvalidSettingException(Setting.LEASE_NAME, leaseName, "must not be empty");
        }
        if (leaseName.length() > 253 || !RFC_1123_SUBDOMAIN.matcher(leaseName).matches()) {
            throw new InvalidSettingException(
                    Setting.LEASE_NAME,
                    leaseName,
                    "must be a valid Kubernetes object name: at most 253 characters, lower-case letters, digits,"
                            + " '-' and '.', starting and ending with a letter or digit");
        }
    }

    /**
     * The longest renew deadline that keeps the leader's step-down ahead of any follower's expiry when clocks tick up
     * to 1 % apart: {@code 1.01 x renewDeadline < 0.99 x leaseDuration}.
     */
    static long maxRenewDeadlineNanos(Duration leaseDuration) {
        long bound = leaseDuration.toNanos() / 101 * 99; // < 0.99/1.01 x lease duration
        return bound - 1;
    }

    private static void requirePositive(Setting setting, Duration value) {
        Objects.requireNonNull(value, setting.key());
        if (value.isNegative() || value.isZero()) {
            throw new InvalidSettingException(setting, value, "must be positive");
        }
    }

    /** Lease duration in whole seconds, as written into a Lease. */
    public int leaseDurationSeconds() {
        return (int) leaseDuration.toSeconds();
    }
}
