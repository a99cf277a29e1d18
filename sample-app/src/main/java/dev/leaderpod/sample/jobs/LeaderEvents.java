package dev.leaderpod.sample.jobs;

import dev.leaderpod.events.LeaderContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.stereotype.Component;

/**
 * Spring Integration's leadership events, as an application (or code written for spring-cloud-kubernetes) listens to
 * them: {@code OnGrantedEvent} after the write that made this instance the holder, {@code OnRevokedEvent} once the
 * term is over (its {@code @LeaderOnly} work drained). They arrive on the elector's event thread, never on the thread
 * that renews the lease. This listener only logs; it is where an application would start and stop work of its own.
 */
@Component
class LeaderEvents {

    private static final Logger log = LoggerFactory.getLogger(LeaderEvents.class);

    @EventListener
    void onGranted(OnGrantedEvent event) {
        long token = LeaderContext.from(event).orElseThrow().getFencingToken();
        log.info("Granted leadership of '{}' (fencing token {})", event.getRole(), token);
    }

    @EventListener
    void onRevoked(OnRevokedEvent event) {
        log.info(
                "Leadership of '{}' revoked (fencing token was {})",
                event.getRole(),
                LeaderContext.from(event).map(LeaderContext::getFencingToken).orElse(null));
    }
}
