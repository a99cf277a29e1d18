package dev.leaderpod.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Runs leader-only work on one replica at a time and shows who leads at {@code /}. Start several; stop or kill the
 * leader; watch another take over. {@code sample-app/README.md} says what each class shows.
 *
 * <ul>
 *   <li>{@code jobs}: the leader-only work, one way of the starter per class: a {@code @Scheduled @LeaderOnly} job
 *       stamped with its fencing token, a {@code @LeaderOnly} {@code SmartLifecycle} worker, and a listener of
 *       {@code OnGrantedEvent} / {@code OnRevokedEvent}.
 *   <li>{@code status}: the status page's data ({@code /api/status}), its timeline, and a leader-only health group.
 *   <li>{@code sidecar}: with the {@code sidecar} profile, a language-agnostic leader-election sidecar answering
 *       {@code GET http://localhost:4040/} with the leader's name.
 * </ul>
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
