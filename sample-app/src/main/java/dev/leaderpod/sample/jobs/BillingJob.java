package dev.leaderpod.sample.jobs;

import dev.leaderpod.annotation.LeaderOnly;
import dev.leaderpod.annotation.LeaderOnlyContext;
import dev.leaderpod.sample.status.Activity;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Profile;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * A job of its own election: {@code @LeaderOnly("billing")} lets the call through on the leader of the election
 * {@code billing} (lease {@code <leader.lease-name>-billing}), which need not be the instance that runs
 * {@link ReportJob}. With several elections the starter spreads them over the live instances, so each leads its share
 * of the work. Every {@code sample.jobs.billing.interval} the leader invoices the open orders, stamped with the
 * fencing token of its {@code billing} term.
 */
@Component
@Profile("!sidecar")
public class BillingJob {

    private final JobRuns runs;

    BillingJob(Activity activity, @Value("${sample.job.duration:300ms}") Duration duration) {
        this.runs = new JobRuns("billing", activity, duration);
    }

    @Scheduled(
            initialDelayString = "${sample.jobs.billing.interval:5s}",
            fixedDelayString = "${sample.jobs.billing.interval:5s}")
    @LeaderOnly("billing")
    public void invoiceOpenOrders() {
        runs.run(LeaderOnlyContext.fencingToken(), "invoiced the open orders"); // the billing term's token
    }
}
