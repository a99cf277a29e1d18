package dev.leaderpod.it;

import dev.leaderpod.autoconfigure.LeaderElectionAutoConfiguration;
import dev.leaderpod.core.LeadershipListener;
import dev.leaderpod.core.LeadershipTerm;
import dev.leaderpod.core.RevocationReason;
import java.util.concurrent.CountDownLatch;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.annotation.Bean;

/**
 * A candidate in its own JVM, for tests with real processes: prints one line per leadership event to stdout
 * ({@code EVENT granted <identity> <token> <epochMillis>}). Configured with the usual {@code leader.*} arguments.
 */
@SpringBootConfiguration
@ImportAutoConfiguration(LeaderElectionAutoConfiguration.class)
public class CandidateProcessMain {

    public static void main(String[] args) throws InterruptedException {
        new SpringApplicationBuilder(CandidateProcessMain.class)
                .web(WebApplicationType.NONE)
                .run(args);
        System.out.println("EVENT started " + System.currentTimeMillis());
        new CountDownLatch(1).await(); // the elector's threads are daemons; SIGTERM closes the context
    }

    @Bean
    LeadershipListener printingListener() {
        return new LeadershipListener() {
            @Override
            public void onStartedLeading(LeadershipTerm term) {
                System.out.println("EVENT granted " + term.identity() + " " + term.fencingToken() + " "
                        + System.currentTimeMillis());
            }

            @Override
            public void onStoppedLeading(LeadershipTerm term, RevocationReason reason) {
                System.out.println(
                        "EVENT revoked " + term.identity() + " " + reason + " " + System.currentTimeMillis());
            }
        };
    }
}
