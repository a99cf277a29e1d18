package dev.leaderpod.autoconfigure;

/** A {@code leader.*} property has a value the election cannot work with. */
public class LeaderConfigurationException extends RuntimeException {

    private final String property;
    private final Object value;
    private final String rule;

    public LeaderConfigurationException(String property, Object value, String rule) {
        super(property + " = " + value + ": " + rule);
        this.property = property;
        this.value = value;
        this.rule = rule;
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
}
