package dev.leaderpod.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Runs {@link ReportJob} and {@link HeartbeatWorker} on one replica at a time and shows who leads at {@code /}.
 * Start several; stop or kill the leader; watch another take over.
 *
 * <p>With the {@code sidecar} profile it is instead a language-agnostic leader-election sidecar: {@link
 * SidecarController} answers {@code GET http://localhost:4040/} with the leader's name.
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
