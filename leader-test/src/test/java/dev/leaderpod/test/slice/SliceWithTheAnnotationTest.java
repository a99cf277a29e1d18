package dev.leaderpod.test.slice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.test.AutoConfigureLeaderElection;
import dev.leaderpod.test.TestLeadership;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.json.JsonTest;
import org.springframework.context.annotation.Import;

/**
 * A test slice has leader election, driven by the test, once it is annotated: the starter's and the kit's. As in the
 * application, the lease is named by {@code spring.application.name} (an application's {@code application.yaml}, which
 * slices read, usually sets it).
 */
@JsonTest(properties = "spring.application.name=slice-app")
@AutoConfigureLeaderElection
@Import(PriceJob.class)
class SliceWithTheAnnotationTest {

    @Autowired
    TestLeadership leadership;

    @Autowired
    PriceJob job;

    @Test
    void theSliceElectsOnTheKitsLease() {
        assertThat(job.publishPrices()).isNull();
        long token = leadership.grant().fencingToken();
        assertThat(job.publishPrices()).isEqualTo(token);
        leadership.revoke();
        assertThat(job.publishPrices()).isNull();
    }
}
