package dev.leaderpod.sample.status;

import dev.leaderpod.core.Leadership;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** One line that says where to look once the application is ready. */
@Component
class ReadyLog {

    private static final Logger log = LoggerFactory.getLogger(ReadyLog.class);

    @EventListener
    void onReady(ApplicationReadyEvent event) {
        if (event.getApplicationContext() instanceof WebServerApplicationContext web && web.getWebServer() != null) {
            Leadership leadership = event.getApplicationContext().getBean(Leadership.class);
            log.info(
                    "Ready: http://localhost:{}/ (pid {}, candidate {} for lease {})",
                    web.getWebServer().getPort(),
                    ProcessHandle.current().pid(),
                    leadership.identity(),
                    leadership.leaseName());
        }
    }
}
