package dev.leaderpod.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link CandidateProcessMain} JVM started by a test, with its event lines collected. */
final class CandidateProcess implements AutoCloseable {

    /** One event line: {@code kind identity detail epochMillis}. */
    record Event(String kind, String identity, String detail, long atMillis) {}

    final String identity;
    final Process process;
    final List<Event> events = new CopyOnWriteArrayList<>();
    final List<String> output = new CopyOnWriteArrayList<>();

    private CandidateProcess(String identity, Process process) {
        this.identity = identity;
        this.process = process;
        Thread reader = new Thread(this::readOutput, "output-" + identity);
        reader.setDaemon(true);
        reader.start();
    }

    static CandidateProcess start(String identity, Path logDirectory, String... properties) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xshare:auto");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(CandidateProcessMain.class.getName());
        command.add("--leader.identity=" + identity);
        command.add("--spring.main.banner-mode=off");
        command.add("--logging.level.root=WARN");
        command.add("--logging.level.dev.leaderpod=INFO");
        for (String property : properties) {
            command.add("--" + property);
        }
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        return new CandidateProcess(identity, process);
    }

    private void readOutput() {
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                output.add(line);
                if (line.startsWith("EVENT ")) {
                    String[] parts = line.split(" ");
                    if (parts[1].equals("started")) {
                        events.add(new Event("started", identity, "", Long.parseLong(parts[2])));
                    } else {
                        events.add(new Event(parts[1], parts[2], parts[3], Long.parseLong(parts[4])));
                    }
                }
            }
        } catch (IOException e) {
            // process ended
        }
    }

    boolean has(String kind) {
        return events.stream().anyMatch(event -> event.kind().equals(kind));
    }

    Event last(String kind) {
        return events.stream()
                .filter(event -> event.kind().equals(kind))
                .reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError(
                        identity + " has no " + kind + " event; output:\n" + String.join("\n", output)));
    }

    /** Whether this process currently leads by its own events: granted more often than revoked, and alive. */
    boolean leads() {
        long granted =
                events.stream().filter(event -> event.kind().equals("granted")).count();
        long revoked =
                events.stream().filter(event -> event.kind().equals("revoked")).count();
        return process.isAlive() && granted > revoked;
    }

    /**
     * SIGTERM, then waits for the exit. Through the process handle: {@link Process#destroy()} would also close our
     * end of its output and lose what it prints while shutting down.
     */
    void terminate() throws InterruptedException {
        process.toHandle().destroy();
        process.waitFor();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
