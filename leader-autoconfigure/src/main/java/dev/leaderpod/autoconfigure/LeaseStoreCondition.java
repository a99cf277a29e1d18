package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import org.springframework.boot.autoconfigure.condition.ConditionMessage;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.cloud.CloudPlatform;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * The store choice, made in one place for every configuration that depends on it (the stores' own configurations
 * and the pod labeler): {@code leader.store}, with {@code auto} resolved by the detected cloud platform; none with
 * {@code leader.enabled=false} (the only candidate's lease is in memory: {@link SoleCandidateConfiguration}). A value that
 * is not a store type fails start-up when the properties are bound, naming {@code leader.store}.
 */
class LeaseStoreCondition extends SpringBootCondition {

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        StoreType wanted = (StoreType) metadata.getAnnotationAttributes(ConditionalOnLeaseStore.class.getName())
                .get("value");
        if ("false".equalsIgnoreCase(context.getEnvironment().getProperty("leader.enabled"))) {
            return ConditionOutcome.noMatch(ConditionMessage.forCondition(ConditionalOnLeaseStore.class, wanted)
                    .because("leader.enabled is false: the only candidate keeps its lease in memory"));
        }
        StoreType configured = configured(context.getEnvironment());
        StoreType resolved = resolve(configured, context.getEnvironment());
        ConditionMessage.Builder message = ConditionMessage.forCondition(ConditionalOnLeaseStore.class, wanted);
        String because = configured == StoreType.AUTO
                ? "leader.store auto resolved to " + resolved
                : "leader.store is " + resolved;
        return resolved == wanted
                ? ConditionOutcome.match(message.because(because))
                : ConditionOutcome.noMatch(message.because(because));
    }

    private static StoreType configured(Environment environment) {
        return Binder.get(environment).bind("leader.store", StoreType.class).orElse(StoreType.AUTO);
    }

    private static StoreType resolve(StoreType configured, Environment environment) {
        if (configured != StoreType.AUTO) {
            return configured;
        }
        return CloudPlatform.getActive(environment) == CloudPlatform.KUBERNETES
                ? StoreType.KUBERNETES
                : StoreType.LOCAL;
    }
}
