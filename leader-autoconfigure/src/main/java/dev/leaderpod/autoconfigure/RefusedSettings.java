package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.ElectionSettings.InvalidSettingException;
import dev.leaderpod.core.ElectionSettings.Setting;
import java.time.Duration;

/**
 * Turns a setting that {@link ElectionSettings} refused into a {@link LeaderConfigurationException} that names the
 * property as the user configures it ({@code leader.*} or {@code leader.elections.<name>.*}) and says what to do,
 * with the largest value that would be accepted where there is one.
 */
final class RefusedSettings {

    private RefusedSettings() {}

    /**
     * @param prefix {@code leader.} or {@code leader.elections.<name>.}
     * @param leaseDuration the lease duration the refused settings had
     * @param renewDeadline the renew deadline the refused settings had
     */
    static LeaderConfigurationException refused(
            String prefix, InvalidSettingException e, Duration leaseDuration, Duration renewDeadline) {
        String property = prefix + e.setting().key();
        String rule = qualifyPropertyNames(prefix, e.rule());
        return new LeaderConfigurationException(
                property, e.value(), rule, action(prefix, e, leaseDuration, renewDeadline));
    }

    /** A timing bound to nothing ({@code leader.lease-duration=} with no value). */
    static LeaderConfigurationException missing(String prefix, String key) {
        return new LeaderConfigurationException(
                prefix + key, null, "must be set to a duration", "Set " + prefix + key + " to a positive duration.");
    }

    private static String action(
            String prefix, InvalidSettingException e, Duration leaseDuration, Duration renewDeadline) {
        String key = e.setting().key();
        String property = prefix + key;
        if (e.rule().equals("must be positive")) {
            return positiveAction(prefix, key);
        }
        return switch (e.setting()) {
            case LEASE_NAME -> {
                String suggestion = e.value() == null ? null : LeaseNames.derive(String.valueOf(e.value()));
                yield "Set " + property + " to a valid name"
                        + (suggestion == null ? "" : ", such as '" + suggestion + "'")
                        + ", or remove it to use a name derived from spring.application.name.";
            }
            case IDENTITY ->
                "Set " + property + " to a name of at most 253 characters that no other candidate uses, or remove"
                        + " it: the default, the host name plus a random suffix, is unique.";
            case LEASE_DURATION ->
                "Set " + property + " to a whole number of seconds, such as "
                        + ConfiguredValues.format(wholeSecondsAbove((Duration) e.value())) + ".";
            case RENEW_DEADLINE ->
                "Set " + property + " to " + ConfiguredValues.format(maxRenewDeadline(leaseDuration))
                        + " or less, or raise " + prefix + Setting.LEASE_DURATION.key() + ".";
            case RETRY_PERIOD -> {
                Duration max = maxRetryPeriod(renewDeadline);
                yield max.isZero()
                        ? "Raise " + prefix + Setting.RENEW_DEADLINE.key() + "."
                        : "Set " + property + " to " + ConfiguredValues.format(max) + " or less, or raise " + prefix
                                + Setting.RENEW_DEADLINE.key() + ".";
            }
            case REQUEST_TIMEOUT ->
                "Set " + property + " to " + ConfiguredValues.format(renewDeadline.dividedBy(2))
                        + " or less (half of " + prefix + Setting.RENEW_DEADLINE.key() + ")"
                        + (isDefaultElection(prefix) ? ", or remove it: that is its default." : ".");
        };
    }

    private static String positiveAction(String prefix, String key) {
        String property = prefix + key;
        if (!isDefaultElection(prefix)) {
            return "Set " + property + " to a positive duration, or remove it to inherit leader." + key + ".";
        }
        if (key.equals(Setting.REQUEST_TIMEOUT.key())) {
            return "Set " + property + " to a positive duration, or remove it: it defaults to half of"
                    + " leader.renew-deadline.";
        }
        Duration byDefault = key.equals(Setting.LEASE_DURATION.key())
                ? ElectionSettings.DEFAULT_LEASE_DURATION
                : key.equals(Setting.RENEW_DEADLINE.key())
                        ? ElectionSettings.DEFAULT_RENEW_DEADLINE
                        : ElectionSettings.DEFAULT_RETRY_PERIOD;
        return "Set " + property + " to a positive duration, or remove it for the default, "
                + ConfiguredValues.format(byDefault) + ".";
    }

    private static boolean isDefaultElection(String prefix) {
        return prefix.equals("leader.");
    }

    /**
     * The longest renew deadline, in whole milliseconds, that {@link ElectionSettings} accepts with
     * {@code leaseDuration}: {@code 1.01 x renewDeadline < 0.99 x leaseDuration} (docs/design.md, "Margin for
     * clock-rate drift").
     */
    static Duration maxRenewDeadline(Duration leaseDuration) {
        long maxNanos = leaseDuration.toNanos() / 101 * 99 - 1;
        return Duration.ofMillis(maxNanos / 1_000_000);
    }

    /** The longest retry period, in whole milliseconds, with {@code 1.2 x retryPeriod < renewDeadline}. */
    static Duration maxRetryPeriod(Duration renewDeadline) {
        long renewNanos = renewDeadline.toNanos();
        long millis = (long) Math.floor(renewNanos / 1.2 / 1_000_000);
        while (millis > 0 && millis * 1_000_000 * 12 / 10 >= renewNanos) {
            millis--;
        }
        while ((millis + 1) * 1_000_000 * 12 / 10 < renewNanos) {
            millis++;
        }
        return Duration.ofMillis(Math.max(millis, 0));
    }

    private static Duration wholeSecondsAbove(Duration duration) {
        long seconds = Math.max(1, duration.toSeconds() + (duration.toNanosPart() > 0 ? 1 : 0));
        return Duration.ofSeconds(seconds);
    }

    /** {@code renew-deadline} in a rule of {@link ElectionSettings} becomes {@code leader.renew-deadline}. */
    static String qualifyPropertyNames(String prefix, String rule) {
        String qualified = rule;
        for (Setting setting : Setting.values()) {
            qualified = qualified.replaceAll("(?<![\\w.-])" + setting.key() + "(?![\\w-])", prefix + setting.key());
        }
        return qualified;
    }
}
