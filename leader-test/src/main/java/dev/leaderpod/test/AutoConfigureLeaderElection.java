package dev.leaderpod.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;

/**
 * Leader election in a test slice ({@code @WebMvcTest}, {@code @JsonTest}, …) or a plain Spring test, as Spring Boot's
 * own {@code @AutoConfigure…} annotations bring a part of an application into one: imports the starter's election
 * and {@code @LeaderOnly} auto-configurations and the kit's ({@link TestLeadershipAutoConfiguration}), so the slice
 * has a {@link TestLeadership} bean and elects on the kit's in-memory lease. The auto-configurations are listed in
 * {@code META-INF/spring/dev.leaderpod.test.AutoConfigureLeaderElection.imports}.
 *
 * <p>A {@code @SpringBootTest} needs no annotation: the kit is added to every such context.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration
public @interface AutoConfigureLeaderElection {}
