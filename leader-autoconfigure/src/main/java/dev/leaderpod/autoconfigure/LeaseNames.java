package dev.leaderpod.autoconfigure;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;

/**
 * The default election's lease name: {@code leader.lease-name} as the user set it (checked, with every other
 * setting, by {@code ElectionSettings}: an invalid explicit name is refused), or else one derived from
 * {@code spring.application.name}, which needs not be a Kubernetes object name ({@code BillingService},
 * {@code billing_service}): lower-cased, accents dropped, every character other than {@code a-z}, {@code 0-9},
 * {@code '-'} and {@code '.'} replaced by {@code '-'}, and trimmed to a valid DNS-1123 subdomain of at most
 * {@value #MAX_DERIVED_LENGTH} characters, which leaves room for the named elections' {@code -<name>}.
 */
final class LeaseNames {

    /** A DNS-1123 label's length: a derived name stays short enough to be suffixed. */
    static final int MAX_DERIVED_LENGTH = 63;

    /** The lease name of an application that has no name and does not elect ({@code leader.enabled=false}). */
    static final String NO_APPLICATION_NAME = "application";

    private static final Logger log = LoggerFactory.getLogger(LeaseNames.class);

    private LeaseNames() {}

    /**
     * The lease name of the default election: {@code leader.lease-name} if set, else derived from
     * {@code spring.application.name}, saying so at INFO when the derived name differs from the application's.
     *
     * @throws LeaderConfigurationException if neither is set (on an instance that elects), or no name can be
     *     derived from the application's name
     */
    static String resolve(LeaderProperties properties, Environment environment) {
        String explicit = properties.getLeaseName();
        if (explicit != null && !explicit.isBlank()) {
            return explicit;
        }
        String application = environment.getProperty("spring.application.name");
        if (application == null || application.isBlank()) {
            if (!properties.isEnabled()) {
                return NO_APPLICATION_NAME; // the only candidate's lease is its own: any name does
            }
            throw new LeaderConfigurationException(
                    "leader.lease-name",
                    null,
                    "Neither is spring.application.name, from which it would be derived: one of them must name the"
                            + " lease that every replica of the application shares",
                    "Set spring.application.name (the lease name is derived from it) or leader.lease-name, the same"
                            + " on every replica.");
        }
        String derived = derive(application);
        if (derived == null) {
            throw new LeaderConfigurationException(
                    "spring.application.name",
                    application,
                    "leader.lease-name is not set, and no lease name can be derived from the application's name: it"
                            + " has no letter or digit a Kubernetes object name can keep (a-z, 0-9)",
                    "Set leader.lease-name to a valid Kubernetes object name for this application's lease, such as"
                            + " 'billing', the same on every replica.");
        }
        if (!derived.equals(application)) {
            log.info(
                    "leader.lease-name not set; using '{}' derived from spring.application.name '{}'",
                    derived,
                    application);
        }
        return derived;
    }

    /**
     * A valid lease name (a DNS-1123 subdomain of at most {@value #MAX_DERIVED_LENGTH} characters) made of
     * {@code name}, or null if {@code name} has no character a lease name can keep.
     */
    static String derive(String name) {
        String plain = Normalizer.normalize(name, Normalizer.Form.NFD)
                .replaceAll("\\p{M}", "") // 'Zürich' -> 'Zurich'
                .toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9.]+", "-");
        String valid = labels(plain);
        if (valid.length() > MAX_DERIVED_LENGTH) {
            valid = labels(valid.substring(0, MAX_DERIVED_LENGTH));
        }
        return valid.isEmpty() ? null : valid;
    }

    /** Each dot-separated part starting and ending with a letter or digit; empty parts dropped. */
    private static String labels(String name) {
        return Arrays.stream(name.split("\\."))
                .map(label -> label.replaceAll("^-+|-+$", ""))
                .filter(label -> !label.isEmpty())
                .collect(Collectors.joining("."));
    }
}
