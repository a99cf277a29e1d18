package dev.leaderpod.sample;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** The sample application started in this JVM on a random port, with an HTTP client for its endpoints. */
final class RunningApp implements AutoCloseable {

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    final ConfigurableApplicationContext context;
    final int port;

    private RunningApp(ConfigurableApplicationContext context) {
        this.context = context;
        this.port = ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    /** Starts the sample with {@code properties} ({@code name=value}) on top of quiet, random-port defaults. */
    static RunningApp start(String... properties) {
        return start(builder -> {}, properties);
    }

    /** Starts the sample as {@link #start(String...)} does, after {@code customizer} adjusted the application. */
    static RunningApp start(java.util.function.Consumer<SpringApplicationBuilder> customizer, String... properties) {
        List<String> args = new ArrayList<>(List.of(
                "--server.port=0",
                "--spring.main.banner-mode=off",
                "--logging.level.root=WARN",
                "--logging.level.dev.leaderpod=INFO"));
        for (String property : properties) {
            args.add("--" + property);
        }
        SpringApplicationBuilder builder = new SpringApplicationBuilder(SampleApplication.class);
        customizer.accept(builder);
        return new RunningApp(builder.run(args.toArray(String[]::new)));
    }

    /** The lease duration of {@link #localFast}. */
    static final Duration FAST_LEASE = Duration.ofSeconds(3);

    /**
     * How long the first election of a fresh lease directory may take with {@link #localFast}: nobody creates a
     * missing lease before it has been missing for one lease duration (a deleted lease's holder may still lead, and
     * the store cannot tell "deleted" from "never existed"), then a retry period with jitter, plus room for a loaded
     * 2-core machine.
     */
    static final Duration FAST_FIRST_ELECTION = FAST_LEASE.plus(Duration.ofSeconds(10));

    /** Properties of fast elections on the local store in {@code directory}, and of frequent jobs. */
    static String[] localFast(java.nio.file.Path directory) {
        return new String[] {
            "leader.store=local",
            "leader.local.directory=" + directory,
            "leader.lease-duration=" + FAST_LEASE.toSeconds() + "s",
            "leader.renew-deadline=2s",
            "leader.retry-period=500ms",
            "leader.spread.presence-interval=1s",
            "sample.job.interval=200ms",
            "sample.job.duration=50ms",
            "sample.jobs.billing.interval=300ms",
            "sample.jobs.cleanup.interval=300ms",
            "sample.jobs.index.interval=300ms",
            "sample.worker.interval=100ms"
        };
    }

    HttpResponse<String> get(String path) {
        try {
            return HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    JsonNode json(String path) {
        try {
            return JSON.readTree(get(path).body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode status() {
        return json("/api/status");
    }

    @Override
    public void close() {
        context.close();
    }
}
