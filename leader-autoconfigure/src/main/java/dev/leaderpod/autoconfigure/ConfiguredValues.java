package dev.leaderpod.autoconfigure;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.PropertySourceOrigin;
import org.springframework.boot.origin.SystemEnvironmentOrigin;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Values of properties as the user typed them and where, for messages: {@code '9s' (from class path resource
 * [application.yaml], line 3)} rather than the bound {@code PT9S}. A property of a named election
 * ({@code leader.elections.<name>.<key>}) that is not set is inherited from {@code leader.<key>}.
 */
final class ConfiguredValues {

    private static final Pattern ELECTION_PROPERTY = Pattern.compile("leader\\.elections\\.[^.]+\\.([a-z-]+)");
    private static final Pattern ISO_DURATION = Pattern.compile("-?PT[-0-9.HMS]+");

    private final ConfigurableEnvironment environment;

    /** @param environment where to look values up; null: nowhere, values are shown as bound */
    ConfiguredValues(Environment environment) {
        this.environment = environment instanceof ConfigurableEnvironment configurable ? configurable : null;
    }

    /** A value as typed and where it was typed. */
    record Typed(String value, String origin) {}

    /** {@code property} as the user typed it, if it is set. */
    Optional<Typed> find(String property) {
        if (environment == null || property == null || !ConfigurationPropertyName.isValid(property)) {
            return Optional.empty();
        }
        ConfigurationPropertyName name = ConfigurationPropertyName.of(property);
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            ConfigurationProperty found = source.getConfigurationProperty(name);
            if (found != null && found.getValue() != null) {
                return Optional.of(new Typed(String.valueOf(found.getValue()), describe(found.getOrigin())));
            }
        }
        return Optional.empty();
    }

    /**
     * The subject of a sentence about {@code property} bound to {@code value}: {@code leader.retry-period is '9s'
     * (from …)}, {@code leader.namespace is not set}, {@code leader.renew-deadline is 10s (the default)}.
     */
    String subject(String property, Object value) {
        Optional<Typed> typed = find(property);
        if (typed.isPresent()) {
            return property + " is " + quotedWithOrigin(typed.get());
        }
        Matcher election = ELECTION_PROPERTY.matcher(property);
        if (election.matches()) {
            String inheritedFrom = "leader." + election.group(1);
            Optional<Typed> inherited = find(inheritedFrom);
            if (inherited.isPresent()) {
                return property + " is '" + inherited.get().value() + "', inherited from " + inheritedFrom
                        + origin(inherited.get());
            }
            if (value != null) {
                return property + " is " + format(value) + ", inherited from the default of " + inheritedFrom;
            }
        }
        if (value == null) {
            return property + " is not set";
        }
        // Not found in an environment that was searched: the value is the property's default.
        return property + " is " + format(value) + (environment != null ? " (the default)" : "");
    }

    /**
     * {@code text} with durations as the user typed them: {@code leader.lease-duration (PT15S)} becomes
     * {@code leader.lease-duration (15s)} with the value typed for that property, any other {@code PT…} a plain
     * duration ({@code 14.702s}).
     */
    String humanize(String text) {
        Matcher named = Pattern.compile("(leader\\.[a-z0-9.-]+) \\((" + ISO_DURATION.pattern() + ")\\)")
                .matcher(text);
        StringBuilder result = new StringBuilder();
        while (named.find()) {
            String property = named.group(1);
            String value = typedOrInherited(property).orElseGet(() -> formatIso(named.group(2)));
            named.appendReplacement(result, Matcher.quoteReplacement(property + " (" + value + ")"));
        }
        named.appendTail(result);
        Matcher iso = ISO_DURATION.matcher(result.toString());
        StringBuilder plain = new StringBuilder();
        while (iso.find()) {
            iso.appendReplacement(plain, Matcher.quoteReplacement(formatIso(iso.group())));
        }
        iso.appendTail(plain);
        return plain.toString();
    }

    private Optional<String> typedOrInherited(String property) {
        Optional<Typed> typed = find(property);
        Matcher election = ELECTION_PROPERTY.matcher(property);
        if (typed.isEmpty() && election.matches()) {
            typed = find("leader." + election.group(1));
        }
        return typed.map(Typed::value);
    }

    /** A bound value for a message: a duration as {@code 1.5s}, anything else quoted. */
    static String format(Object value) {
        return value instanceof Duration duration ? format(duration) : "'" + value + "'";
    }

    /** A duration as a user would type it: {@code 15s}, {@code 1.5s}, {@code 250ms}, {@code -1s}. */
    static String format(Duration duration) {
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        if (duration.isZero()) {
            return "0s";
        }
        if (duration.toNanos() % 1_000_000 != 0) {
            return duration.toNanos() + "ns";
        }
        if (duration.compareTo(Duration.ofSeconds(1)) < 0) {
            return duration.toMillis() + "ms";
        }
        return BigDecimal.valueOf(duration.toMillis(), 3).stripTrailingZeros().toPlainString() + "s";
    }

    private static String formatIso(String iso) {
        try {
            return format(Duration.parse(iso));
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    private static String quotedWithOrigin(Typed typed) {
        return "'" + typed.value() + "'" + origin(typed);
    }

    private static String origin(Typed typed) {
        return typed.origin() == null ? "" : " (from " + typed.origin() + ")";
    }

    /** Where a value was set, as a user knows the place: a file and line, an environment variable, a source. */
    static String describe(Origin origin) {
        if (origin instanceof PropertySourceOrigin source) {
            if (source.getOrigin() != null) {
                return describe(source.getOrigin());
            }
            String name = source.getPropertySource().getName();
            return switch (name) {
                case "commandLineArgs" -> "the command line";
                case "systemProperties" -> "a system property";
                case "systemEnvironment" -> "an environment variable";
                default -> "property source '" + name + "'";
            };
        }
        if (origin instanceof TextResourceOrigin text && text.getResource() != null) {
            return text.getResource().getDescription()
                    + (text.getLocation() != null
                            ? ", line " + (text.getLocation().getLine() + 1)
                            : "");
        }
        if (origin instanceof SystemEnvironmentOrigin variable) {
            return "environment variable " + variable.getProperty();
        }
        return origin == null ? null : origin.toString();
    }
}
