package dev.leaderpod.sample;

import dev.leaderpod.events.LeaderContext;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.integration.leader.event.OnGrantedEvent;
import org.springframework.integration.leader.event.OnRevokedEvent;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** A job that must run on one replica only: it works between OnGrantedEvent and OnRevokedEvent. */
@Component
class LeaderWork {

    private static final Logger log = LoggerFactory.getLogger(LeaderWork.class);

    private final AtomicReference<LeaderContext> leadership = new AtomicReference<>();

    @EventListener
    void onGranted(OnGrantedEvent event) {
        LeaderContext.from(event).ifPresent(context -> {
            leadership.set(context);
            log.info("Granted leadership of '{}' (fencing token {})", event.getRole(), context.getFencingToken());
        });
    }

    @EventListener
    void onRevoked(OnRevokedEvent event) {
        leadership.set(null);
        log.info("Leadership of '{}' revoked", event.getRole());
    }

    @Scheduled(fixedDelayString = "${sample.work-interval:2s}")
    void work() {
        LeaderContext context = leadership.get();
        if (context != null && context.isLeader()) {
            log.info("doing leader work (fencing token {})", context.getFencingToken());
        }
    }
}
