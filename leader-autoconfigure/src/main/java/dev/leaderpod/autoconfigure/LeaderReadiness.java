package dev.leaderpod.autoconfigure;

import dev.leaderpod.core.Candidacy;
import dev.leaderpod.spread.ElectionSpreader;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationListener;

/**
 * Leadership follows readiness ({@code leader.follow-readiness}, docs/design.md, "Leadership follows readiness"):
 * while the application's {@link ReadinessState} is {@link ReadinessState#REFUSING_TRAFFIC REFUSING_TRAFFIC} this
 * instance does not stand in its elections ({@link Candidacy#standing()}): it takes no lease, and a leader hands
 * leadership over — drain, release — and stays out until the application accepts traffic again. It follows the
 * {@link AvailabilityChangeEvent}s of this context; its initial state is that of {@link ApplicationAvailability}
 * (refusing until {@code SpringApplication} says the application is ready), or ready where there is none (a context
 * not run by {@code SpringApplication}, such as a test's {@code ApplicationContextRunner}).
 *
 * <p>With spreading, it also tells the others, in the candidate's presence metadata ({@link ElectionSpreader#READY}),
 * so that nobody hands it an election or counts it as a taker.
 */
final class LeaderReadiness
        implements ApplicationListener<AvailabilityChangeEvent<ReadinessState>>, ApplicationContextAware {

    private static final Logger log = LoggerFactory.getLogger(LeaderReadiness.class);

    private final ObjectProvider<LeaderElections> elections;
    private final ObjectProvider<ElectionSpreader> spreader;
    private volatile boolean ready;
    private ApplicationContext context;

    LeaderReadiness(
            ApplicationAvailability availability,
            ObjectProvider<LeaderElections> elections,
            ObjectProvider<ElectionSpreader> spreader) {
        this.elections = elections;
        this.spreader = spreader;
        this.ready = availability == null || availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC;
    }

    /** Whether the application accepts traffic, as this instance last heard. */
    boolean ready() {
        return ready;
    }

    /** {@code candidacy}, standing only while the application accepts traffic. */
    Candidacy following(Candidacy candidacy) {
        return candidacy.standingOnlyWhile(() -> ready);
    }

    /** {@code metadata} with this instance's readiness added under {@link ElectionSpreader#READY}. */
    Supplier<Map<String, String>> withReadiness(Map<String, String> metadata) {
        return () -> {
            Map<String, String> withReady = new LinkedHashMap<>(metadata);
            withReady.put(ElectionSpreader.READY, String.valueOf(ready));
            return withReady;
        };
    }

    /** Whether {@code event} was published by a context below this one, whose events reach this one's listeners. */
    private boolean fromChildContext(AvailabilityChangeEvent<?> event) {
        if (!(event.getSource() instanceof ApplicationContext source)) {
            return false;
        }
        for (ApplicationContext parent = source.getParent(); parent != null; parent = parent.getParent()) {
            if (parent == context) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void setApplicationContext(ApplicationContext context) {
        this.context = context;
    }

    @Override
    public void onApplicationEvent(AvailabilityChangeEvent<ReadinessState> event) {
        Object state = event.getState(); // a raw event may carry another state
        if (!(state instanceof ReadinessState) || fromChildContext(event)) {
            return; // a child context's (the management server's) readiness is not the application's
        }
        boolean now = state == ReadinessState.ACCEPTING_TRAFFIC;
        if (now == ready) {
            return;
        }
        ready = now;
        LeaderElections all = elections.getIfAvailable();
        if (all == null) {
            return;
        }
        if (now) {
            log.info(
                    "The application accepts traffic: this instance takes part in its elections (leader.follow-readiness)");
        } else {
            log.info("The application refuses traffic: this instance takes no leadership, and hands over what it leads,"
                    + " until it accepts traffic again (leader.follow-readiness)");
        }
        spreader.ifAvailable(ElectionSpreader::metadataChanged);
        all.standingChanged();
    }
}
