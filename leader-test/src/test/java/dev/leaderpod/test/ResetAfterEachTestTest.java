package dev.leaderpod.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.leaderpod.autoconfigure.LeaderElections;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** Each test starts with no leader: the kit revokes every election after each test method, in a cached context too. */
@SpringBootTest(classes = KitTestApplication.class, properties = "spring.application.name=kit-app")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResetAfterEachTestTest {

    @Autowired
    TestLeadership leadership;

    @Autowired
    LeaderElections elections;

    @Test
    @Order(1)
    void aTestThatEndsLeadingTwoElections() {
        leadership.grant();
        leadership.grant("reports");
        assertThat(elections.election("").isLeader()).isTrue();
        assertThat(elections.election("reports").isLeader()).isTrue();
    }

    @Test
    @Order(2)
    void theNextTestStartsWithNoLeader() {
        assertThat(elections.electors())
                .allSatisfy((name, elector) ->
                        assertThat(elector.isLeader()).as(name).isFalse());
    }
}
