package dev.leaderpod.sample;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged sample-app jar running in a JVM of its own, as a user runs it: its log lines (with their timestamps)
 * collected, its port read from its "Ready" line, and its {@code /api/status} at hand.
 */
final class SampleProcess implements AutoCloseable {

    /** One log line and the time the application stamped on it. */
    record Line(Instant at, String text) {}

    private static final Pattern READY = Pattern.compile("Ready: http://localhost:(\\d+)/");
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    final String name;
    final Process process;
    final List<Line> lines = new CopyOnWriteArrayList<>();
    private final PrintWriter log;
    private volatile int port;
    private volatile Instant stoppedAt;

    private SampleProcess(String name, Process process, Path logFile) throws IOException {
        this.name = name;
        this.process = process;
        Files.createDirectories(logFile.getParent());
        this.log = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), true);
        Thread reader = new Thread(this::readOutput, "output-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code java -jar sample-app.jar} with {@code HOSTNAME=name} (so identities read {@code name-xxxxx}).
     *
     * @param jvmOptions system properties and JVM flags, before {@code -jar}
     * @param properties application properties ({@code name=value})
     */
    static SampleProcess start(
            String name,
            Path logDirectory,
            Map<String, String> environment,
            List<String> jvmOptions,
            String... properties)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-XX:+UseSerialGC");
        command.add("-Xshare:auto");
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toString());
        command.add("--server.port=0");
        command.add("--spring.main.banner-mode=off");
        command.add("--logging.level.root=WARN");
        command.add("--logging.level.dev.leaderpod=INFO");
        command.add(
                "--logging.pattern.console=%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20} : %msg%n");
        for (String property : properties) {
            command.add("--" + property);
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("HOSTNAME", name);
        builder.environment().putAll(environment);
        return new SampleProcess(name, builder.start(), logDirectory.resolve(name + ".log"));
    }

    static Path jar() {
        String jar = System.getProperty("sample.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("The packaged sample app is needed (system property sample.jar, set by"
                    + " failsafe after `package`): " + jar);
        }
        return Path.of(jar);
    }

    private void readOutput() {
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                log.println(line);
                int space = line.indexOf(' ');
                if (space > 0) {
                    try {
                        lines.add(new Line(
                                OffsetDateTime.parse(line.substring(0, space)).toInstant(), line));
                    } catch (DateTimeParseException e) {
                        // a stack trace line or similar: kept in the log file only
                    }
                }
                Matcher ready = READY.matcher(line);
                if (ready.find()) {
                    port = Integer.parseInt(ready.group(1));
                }
            }
        } catch (IOException e) {
            // the process ended
        } finally {
            log.close();
        }
    }

    boolean ready() {
        return port > 0;
    }

    /** This process's {@code /api/status}, or empty if it does not answer. */
    Optional<JsonNode> status() {
        if (!ready() || !process.isAlive()) {
            return Optional.empty();
        }
        try {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/status"))
                            .timeout(Duration.ofSeconds(3))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? Optional.of(JSON.readTree(response.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    boolean leads() {
        return status().map(status -> status.at("/self/leader").asBoolean()).orElse(false);
    }

    String identity() {
        return status().orElseThrow().at("/self/identity").asText();
    }

    /** SIGTERM, as Ctrl-C or the kubelet sends it, then waits for the exit. */
    void terminate() throws InterruptedException {
        stoppedAt = Instant.now();
        process.toHandle().destroy(); // not Process.destroy(), which would close our end of its output
        process.waitFor();
    }

    /** SIGKILL: no shutdown, no release. */
    void kill() throws InterruptedException {
        stoppedAt = Instant.now();
        process.toHandle().destroyForcibly();
        process.waitFor();
    }

    /** When {@link #terminate()} or {@link #kill()} was called, if it was. */
    Optional<Instant> stoppedAt() {
        return Optional.ofNullable(stoppedAt);
    }

    /** The lines whose text matches {@code regex}, with the matcher of each. */
    List<Matcher> find(String regex) {
        Pattern pattern = Pattern.compile(regex);
        List<Matcher> found = new ArrayList<>();
        for (Line line : lines) {
            Matcher matcher = pattern.matcher(line.text());
            if (matcher.find()) {
                found.add(matcher);
            }
        }
        return found;
    }

    /** The time stamp of the first line matching {@code regex}. */
    Optional<Instant> firstAt(String regex) {
        Pattern pattern = Pattern.compile(regex);
        return lines.stream()
                .filter(line -> pattern.matcher(line.text()).find())
                .map(Line::at)
                .findFirst();
    }

    @Override
    public void close() {
        process.toHandle().destroyForcibly();
    }

    @Override
    public String toString() {
        return name;
    }
}
