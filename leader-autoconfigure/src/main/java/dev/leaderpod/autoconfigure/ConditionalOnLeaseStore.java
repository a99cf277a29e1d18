package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.context.annotation.Conditional;

/**
 * Matches when {@code leader.store} resolves to {@link #value()}; {@code auto} resolves to {@code kubernetes} on
 * Kubernetes and to {@code local} anywhere else. The one place the store is chosen: see {@link LeaseStoreCondition}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Documented
@Conditional(LeaseStoreCondition.class)
@interface ConditionalOnLeaseStore {

    /** The store the annotated configuration is for; never {@link StoreType#AUTO}. */
    StoreType value();
}
