package dev.leaderpod.test.slice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.test.TestLeadership;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.json.JsonTest;
import org.springframework.context.ApplicationContext;

/** Without the annotation a slice has no election at all: the kit is added to {@code @SpringBootTest} contexts only. */
@JsonTest
class SliceWithoutTheAnnotationTest {

    @Autowired
    ApplicationContext context;

    @Test
    void theSliceHasNoElection() {
        assertThat(context.getBeanProvider(TestLeadership.class).getIfAvailable())
                .isNull();
        assertThat(context.getBeanProvider(LeaseElector.class).getIfAvailable()).isNull();
    }
}
