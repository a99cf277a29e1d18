package dev.leaderpod.test;

import org.springframework.core.Ordered;
import org.springframework.test.context.TestContext;
import org.springframework.test.context.support.AbstractTestExecutionListener;

/**
 * After each test method, revokes every election the test's context leads ({@link TestLeadership#revokeAll()}): each
 * test starts with no leader, even in a context cached from another test class. Runs before a context is closed by
 * {@code @DirtiesContext}.
 */
class TestLeadershipResetTestExecutionListener extends AbstractTestExecutionListener {

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE - 200;
    }

    @Override
    public void afterTestMethod(TestContext testContext) {
        if (testContext.hasApplicationContext()) {
            testContext
                    .getApplicationContext()
                    .getBeanProvider(TestLeadership.class)
                    .ifAvailable(TestLeadership::revokeAll);
        }
    }
}
