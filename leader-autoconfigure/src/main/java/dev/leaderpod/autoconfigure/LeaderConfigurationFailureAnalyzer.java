package dev.leaderpod.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains an invalid {@code leader.*} property at start-up: which property, which value, which rule. */
class LeaderConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<LeaderConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, LeaderConfigurationException cause) {
        String description = String.format(
                "Leader election cannot start: property '%s' has value '%s', which is invalid: it %s.",
                cause.getProperty(), cause.getValue(), cause.getRule());
        String action = String.format(
                "Change '%s' in your configuration (application.yaml, environment variable %s, ...) so that it %s."
                        + " See the properties table in the Leader Election Pod README.",
                cause.getProperty(), toEnvironmentVariable(cause.getProperty()), cause.getRule());
        return new FailureAnalysis(description, action, cause);
    }

    private static String toEnvironmentVariable(String property) {
        return property.toUpperCase().replace('.', '_').replace("-", "");
    }
}
