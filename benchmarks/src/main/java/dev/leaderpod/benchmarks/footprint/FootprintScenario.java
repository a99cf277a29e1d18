package dev.leaderpod.benchmarks.footprint;

import dev.leaderpod.benchmarks.footprint.app.FootprintApp;
import dev.leaderpod.benchmarks.support.MockApiServer;
import dev.leaderpod.benchmarks.support.Report;
import dev.leaderpod.benchmarks.support.Stats;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Scenario 5, footprint: an idle application in its own JVM, on three class paths cut from this module's own:
 *
 * <ul>
 *   <li>{@code boot}: Spring Boot only (no spring-cloud, Spring Integration, fabric8, AOP or Micrometer jars, no
 *       starter);
 *   <li>{@code sck}: plus the spring-cloud-kubernetes-fabric8-leader dependency set (spring-cloud-kubernetes,
 *       Spring Cloud Commons, Spring Integration, fabric8 client), its ConfigMap election off as the starter sets
 *       it;
 *   <li>{@code starter}: the whole starter (adds our auto-configuration, AOP, Micrometer), electing over a Lease.
 * </ul>
 *
 * All run "on Kubernetes" against the mock API server. Start-up is the wall time from process start to the
 * application's ready line, several runs interleaved. Threads and heap are read in the idle application after it
 * settled: as leader, and as follower (another holder keeps renewing).
 */
public final class FootprintScenario {

    /** What only the benchmarks need (mock server, JMH, test libraries): in no variant. */
    private static final String BENCHMARK_ONLY = "kubernetes-server-mock|mockwebserver|vertx-web|vertx-auth-common"
            + "|vertx-bridge-common|okhttp|okio.*|logging-interceptor|kotlin-stdlib.*|annotations|jmh-.*|jopt-simple"
            + "|commons-math3|junit-.*|mockito-.*|assertj-core|spring-test|spring-boot-test.*|spring-boot-starter-test"
            + "|hamcrest|byte-buddy.*|objenesis|opentest4j|apiguardian-api|awaitility|jsonassert|json-path|json-smart"
            + "|accessors-smart|android-json|xmlunit-core|asm";

    /** What the starter adds to spring-cloud-kubernetes-fabric8-leader's dependency set. */
    private static final String STARTER_ONLY = "leader-autoconfigure|leader-starter|aspectjweaver|micrometer-core"
            + "|HdrHistogram|LatencyUtils|spring-boot-starter-aop";

    /** spring-boot-starter and what it brings. */
    private static final String SPRING_BOOT = "spring-boot|spring-boot-autoconfigure|spring-boot-starter"
            + "|spring-boot-starter-logging|logback-classic|logback-core|log4j-api|log4j-to-slf4j|jul-to-slf4j"
            + "|slf4j-api|jakarta.annotation-api|spring-core|spring-jcl|snakeyaml|spring-context|spring-aop"
            + "|spring-beans|spring-expression|micrometer-observation|micrometer-commons";

    private static final int IDLE_SECONDS = 13; // past the event thread's 10 s keep-alive

    private final MockApiServer server;
    private final int runs;

    public FootprintScenario(MockApiServer server, int runs) {
        this.server = server;
        this.runs = runs;
    }

    record Variant(String name, String classPath, List<String> properties) {}

    public void run(Report report) throws Exception {
        List<String> entries = Arrays.stream(
                        System.getProperty("java.class.path").split(File.pathSeparator))
                .map(entry -> new File(entry).getAbsolutePath())
                .toList();
        String starter = join(entries, e -> !matches(e, BENCHMARK_ONLY));
        String sck = join(entries, e -> !matches(e, BENCHMARK_ONLY) && !matches(e, STARTER_ONLY));
        String boot = join(entries, e -> e.endsWith("benchmarks/target/classes") || matches(e, SPRING_BOOT));

        String namespace = "footprint";
        List<String> common = List.of(
                "--spring.main.banner-mode=off",
                "--logging.level.root=WARN",
                "--spring.main.cloud-platform=kubernetes",
                "--spring.cloud.kubernetes.leader.enabled=false");
        Variant bootVariant = new Variant("boot", boot, common);
        Variant sckVariant = new Variant("sck", sck, common);
        Variant starterVariant = new Variant("starter", starter, common);

        // Start-up, interleaved so that background load hits all variants alike.
        Map<String, List<Double>> wall = new LinkedHashMap<>();
        Map<String, List<Double>> uptime = new LinkedHashMap<>();
        for (int run = 0; run < runs; run++) {
            for (Variant variant : List.of(bootVariant, sckVariant, starterVariant)) {
                List<String> properties = new ArrayList<>(variant.properties());
                properties.add("--spring.application.name=startup-" + variant.name() + "-" + run);
                Child child = launch(variant.classPath(), 0, properties);
                wall.computeIfAbsent(variant.name(), k -> new ArrayList<>()).add(child.readyWallMs);
                uptime.computeIfAbsent(variant.name(), k -> new ArrayList<>()).add(child.readyUptimeMs);
            }
        }

        // At rest: four idle applications side by side.
        KubernetesClient admin = server.adminClient(namespace);
        ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor();
        renewer.scheduleAtFixedRate(() -> renewForeignLease(admin, namespace), 0, 2, TimeUnit.SECONDS);
        List<String> leaderProps = new ArrayList<>(common);
        leaderProps.add("--spring.application.name=rest-leader");
        List<String> followerProps = new ArrayList<>(common);
        followerProps.add("--spring.application.name=rest-follower");
        List<String> sckProps = new ArrayList<>(common);
        sckProps.add("--spring.application.name=rest-sck");
        Map<String, CompletableFuture<Child>> rest = new LinkedHashMap<>();
        rest.put("sck (election off)", CompletableFuture.supplyAsync(() -> launch(sck, IDLE_SECONDS, sckProps)));
        rest.put("starter, leader", CompletableFuture.supplyAsync(() -> launch(starter, IDLE_SECONDS, leaderProps)));
        rest.put(
                "starter, follower", CompletableFuture.supplyAsync(() -> launch(starter, IDLE_SECONDS, followerProps)));
        Map<String, Child> atRest = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<Child>> entry : rest.entrySet()) {
            atRest.put(entry.getKey(), entry.getValue().get());
        }
        renewer.shutdownNow();
        admin.close();

        report.line("## 5. Footprint (idle application, own JVM, on Kubernetes against the mock API server)");
        report.line("");
        report.line("Class paths cut from this module's: boot = Spring Boot only (" + count(boot) + " entries); sck ="
                + " plus the spring-cloud-kubernetes-fabric8-leader set (" + count(sck) + "); starter = plus our"
                + " auto-configuration, AOP and Micrometer (" + count(starter) + "). spring-cloud-kubernetes' ConfigMap"
                + " election is off (as the starter sets it) unless said otherwise.");
        report.line("");
        report.line("Start-up, " + runs + " runs per variant, interleaved: wall time from process start to ready"
                + " (ms), and the JVM's own uptime at ready (ms).");
        report.line("");
        List<List<String>> rows = new ArrayList<>();
        Map<String, Stats> wallStats = new LinkedHashMap<>();
        wall.forEach((name, values) -> wallStats.put(name, Stats.of(values)));
        for (String name : wall.keySet()) {
            Stats w = wallStats.get(name);
            Stats u = Stats.of(uptime.get(name));
            rows.add(List.of(
                    name,
                    Report.ms(w.median()),
                    Report.ms(w.p90()),
                    Report.ms(w.max()),
                    Report.ms(u.median()),
                    name.equals("boot")
                            ? "—"
                            : Report.ms(w.median() - wallStats.get("boot").median()),
                    name.equals("starter")
                            ? Report.ms(w.median() - wallStats.get("sck").median())
                            : "—"));
        }
        report.table(
                List.of(
                        "variant",
                        "median wall ms",
                        "p90 ms",
                        "max ms",
                        "median JVM uptime ms",
                        "over boot ms",
                        "over sck ms (our increment)"),
                rows);

        report.line("At rest, after " + IDLE_SECONDS + " s idle (three GCs before reading the heap):");
        report.line("");
        Child base = atRest.get("sck (election off)");
        List<List<String>> restRows = new ArrayList<>();
        for (Map.Entry<String, Child> entry : atRest.entrySet()) {
            Child child = entry.getValue();
            restRows.add(List.of(
                    entry.getKey(),
                    String.valueOf(child.threadCount()),
                    String.valueOf(child.threadCount() - base.threadCount()),
                    Report.num(child.heap / 1048576.0, 1),
                    Report.num((child.heap - base.heap) / 1048576.0, 1),
                    String.valueOf(child.classes - base.classes),
                    diff(child.threads, base.threads)));
        }
        report.table(
                List.of(
                        "application",
                        "live threads",
                        "threads over sck",
                        "heap used MiB",
                        "heap over sck MiB",
                        "classes over sck",
                        "threads that differ from sck"),
                restRows);
        report.line("Goal: ≤ 1 extra platform thread per election at rest, ≤ 150 ms start-up added (our increment).");
        report.line("");
        report.line("spring-cloud-kubernetes' own ConfigMap election is not in the table: with it switched on, 3.3.0"
                + " fails to start without spring-boot-actuator on the class path (NoClassDefFoundError:"
                + " org/springframework/boot/actuate/info/InfoContributor from Fabric8LeaderAutoConfiguration).");
        report.line("");
    }

    private static void renewForeignLease(KubernetesClient admin, String namespace) {
        try {
            Lease lease = new LeaseBuilder()
                    .withNewMetadata()
                    .withName("rest-follower")
                    .withNamespace(namespace)
                    .endMetadata()
                    .withNewSpec()
                    .withHolderIdentity("another-replica")
                    .withLeaseDurationSeconds(15)
                    .withRenewTime(ZonedDateTime.now())
                    .withLeaseTransitions(0)
                    .endSpec()
                    .build();
            admin.leases().inNamespace(namespace).resource(lease).createOr(op -> op.update());
        } catch (RuntimeException e) {
            // the next renew will do
        }
    }

    private static String diff(Map<String, Integer> threads, Map<String, Integer> base) {
        TreeSet<String> names = new TreeSet<>(threads.keySet());
        names.addAll(base.keySet());
        List<String> out = new ArrayList<>();
        for (String name : names) {
            int delta = threads.getOrDefault(name, 0) - base.getOrDefault(name, 0);
            if (delta != 0) {
                out.add((delta > 0 ? "+" : "") + delta + " `" + name + "`");
            }
        }
        return out.isEmpty() ? "none" : String.join(", ", out);
    }

    /** Whether a class path entry is a jar whose artifact id (the name before the version) matches {@code ids}. */
    static boolean matches(String entry, String ids) {
        File file = new File(entry).getAbsoluteFile();
        String name = file.getName();
        if (entry.endsWith("target/classes")) {
            name = file.getParentFile().getParentFile().getName();
        } else if (name.endsWith(".jar")) {
            name = name.substring(0, name.length() - 4).replaceFirst("-\\d[^-]*(-.*)?$", "");
        }
        return name.matches(ids);
    }

    private static String join(List<String> entries, Predicate<String> keep) {
        return entries.stream().filter(keep).collect(Collectors.joining(File.pathSeparator));
    }

    private static int count(String classPath) {
        return classPath.split(File.pathSeparator).length;
    }

    static final class Child {
        volatile double readyWallMs;
        volatile double readyUptimeMs;
        volatile long heap;
        volatile long classes;
        final Map<String, Integer> threads = new TreeMap<>();

        int threadCount() {
            return threads.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    private Child launch(String classPath, int idleSeconds, List<String> properties) {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(
                java,
                "-Xmx512m",
                "-Dkubernetes.master=" + server.url(),
                "-Dkubernetes.namespace=footprint",
                "-Dkubernetes.auth.tryKubeConfig=false",
                "-Dkubernetes.auth.tryServiceAccount=false",
                "-cp",
                classPath,
                FootprintApp.class.getName(),
                String.valueOf(idleSeconds)));
        command.addAll(properties);
        Child child = new Child();
        long start = System.nanoTime();
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        StringBuffer output = new StringBuffer();
        Thread reader = new Thread(() -> read(process, child, start, output), "footprint-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!process.waitFor(idleSeconds + 90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("footprint application did not finish:\n" + output);
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException(e);
        }
        if (child.readyWallMs == 0 || (idleSeconds > 0 && child.threads.isEmpty())) {
            throw new IllegalStateException("footprint application failed:\n" + output);
        }
        return child;
    }

    private static void read(Process process, Child child, long start, StringBuffer output) {
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                output.append(line).append('\n');
                if (line.startsWith("READY ")) {
                    child.readyWallMs = (System.nanoTime() - start) / 1e6;
                    child.readyUptimeMs = Double.parseDouble(line.substring(6));
                } else if (line.startsWith("HEAP ")) {
                    child.heap = Long.parseLong(line.substring(5));
                } else if (line.startsWith("CLASSES ")) {
                    child.classes = Long.parseLong(line.substring(8));
                } else if (line.startsWith("THREAD ")) {
                    String[] parts = line.split(" ", 3);
                    synchronized (child.threads) {
                        child.threads.put(parts[2], Integer.parseInt(parts[1]));
                    }
                }
            }
        } catch (IOException e) {
            output.append(e);
        }
    }
}
