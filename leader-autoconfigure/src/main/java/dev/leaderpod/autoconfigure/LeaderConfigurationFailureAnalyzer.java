package dev.leaderpod.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Explains an invalid {@code leader.*} property at start-up, in plain sentences. Description: what is wrong, naming
 * the property, its value as the user typed it and where ({@code leader.retry-period is '9s' (from class path
 * resource [application.yaml], line 3)}), and the rule. Action: what to do.
 */
class LeaderConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<LeaderConfigurationException> {

    private final ConfiguredValues values;

    /** As Spring Boot creates it: with the environment of the application that failed, to show values as typed. */
    public LeaderConfigurationFailureAnalyzer(Environment environment) {
        this.values = new ConfiguredValues(environment);
    }

    /** Without an environment: values are shown as bound. */
    LeaderConfigurationFailureAnalyzer() {
        this(null);
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, LeaderConfigurationException cause) {
        String problem = cause.ruleDescribesAll()
                ? sentence(cause.getRule())
                : sentence(values.subject(cause.getProperty(), cause.getValue())) + " " + ruleSentence(cause.getRule());
        String action = cause.getAction() != null
                ? cause.getAction()
                : "Change " + cause.getProperty() + " to a value that follows this rule.";
        return new FailureAnalysis(
                values.humanize("Leader election cannot start: " + problem), values.humanize(action), cause);
    }

    /** A rule as a sentence of its own: "must be positive" is said of the property ("It must be positive."). */
    private static String ruleSentence(String rule) {
        boolean predicate = rule.startsWith("must ") || rule.startsWith("needs ");
        return sentence(predicate ? "It " + rule : capitalized(rule));
    }

    private static String capitalized(String text) {
        // Property names stay as they are typed: "leader.lease-name is not set" starts a sentence as it is.
        return text.startsWith("leader.") || text.startsWith("spring.")
                ? text
                : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }

    private static String sentence(String text) {
        return text.endsWith(".") ? text : text + ".";
    }
}
