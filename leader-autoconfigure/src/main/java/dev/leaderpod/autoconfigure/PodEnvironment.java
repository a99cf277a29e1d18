package dev.leaderpod.autoconfigure;

import org.springframework.core.env.Environment;

/** What the environment says about the pod this application runs in. */
final class PodEnvironment {

    private PodEnvironment() {}

    /** The pod's name: {@code POD_NAME} (the downward API) or {@code HOSTNAME} (which Kubernetes sets to it); null if neither. */
    static String podName(Environment environment) {
        return firstNonBlank(environment.getProperty("POD_NAME"), environment.getProperty("HOSTNAME"));
    }

    /** The first of {@code values} that is not null or blank; null if none. */
    static String firstNonBlank(String... values) {
        for (String value : values) {
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return null;
    }
}
