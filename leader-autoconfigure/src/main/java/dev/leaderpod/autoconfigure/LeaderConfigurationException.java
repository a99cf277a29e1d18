package dev.leaderpod.autoconfigure;

/**
 * A {@code leader.*} property has a value the election cannot work with. The failure analysis
 * ({@code LeaderConfigurationFailureAnalyzer}) says which property, its value as the user typed it and where it was
 * set, the rule it breaks and, when given, what to do.
 */
public class LeaderConfigurationException extends RuntimeException {

    private final String property;
    private final Object value;
    private final String rule;
    private final String action;
    private final boolean ruleDescribesAll;

    /**
     * @param property the full property name, such as {@code leader.renew-deadline}
     * @param value the value as bound (the failure analysis shows the value as typed when it can find it)
     * @param rule what the value must satisfy: a predicate of the property ({@code "must be positive"}) or a whole
     *     sentence ({@code "1.2 x leader.retry-period must be shorter than …"})
     */
    public LeaderConfigurationException(String property, Object value, String rule) {
        this(property, value, rule, null, false);
    }

    /**
     * @param action what the user should do, as a whole sentence
     * @see #LeaderConfigurationException(String, Object, String)
     */
    public LeaderConfigurationException(String property, Object value, String rule, String action) {
        this(property, value, rule, action, false);
    }

    private LeaderConfigurationException(
            String property, Object value, String rule, String action, boolean ruleDescribesAll) {
        super(property + " = " + value + ": " + rule);
        this.property = property;
        this.value = value;
        this.rule = rule;
        this.action = action;
        this.ruleDescribesAll = ruleDescribesAll;
    }

    /**
     * A problem that the value of one property does not describe, such as a key of a map: {@code description} says
     * all, naming the property.
     */
    public static LeaderConfigurationException describedAs(
            String property, Object value, String description, String action) {
        return new LeaderConfigurationException(property, value, description, action, true);
    }

    /** The full property name, such as {@code leader.renew-deadline}. */
    public String getProperty() {
        return property;
    }

    public Object getValue() {
        return value;
    }

    /** What the value must satisfy. */
    public String getRule() {
        return rule;
    }

    /** What to do about it, a whole sentence; null if the thrower gave none. */
    public String getAction() {
        return action;
    }

    /** Whether {@link #getRule()} describes the whole problem, the property included. */
    public boolean ruleDescribesAll() {
        return ruleDescribesAll;
    }
}
