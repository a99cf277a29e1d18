package dev.leaderpod.sample;

import dev.leaderpod.events.LeaderContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.stereotype.Component;

/**
 * Spring Integration's leadership events, as an application (or code written for spring-cloud-kubernetes) would
 * listen to them. They arrive on the elector's event thread, never on the thread that renews the lease.
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
