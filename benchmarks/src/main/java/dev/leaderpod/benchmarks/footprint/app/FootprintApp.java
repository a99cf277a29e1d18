package dev.leaderpod.benchmarks.footprint.app;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * An idle application for the footprint scenario, started in its own JVM on a chosen class path. Prints
 * {@code READY <uptime ms>} once started; then, if asked to idle, waits and prints its threads and heap.
 *
 * <p>Arguments: {@code idleSeconds} (0: exit at once), then Spring properties.
 */
@SpringBootApplication
public class FootprintApp {

    public static void main(String[] args) throws Exception {
        int idleSeconds = Integer.parseInt(args[0]);
        String[] properties = java.util.Arrays.copyOfRange(args, 1, args.length);
        SpringApplication application = new SpringApplication(FootprintApp.class);
        application.setWebApplicationType(org.springframework.boot.WebApplicationType.NONE);
        ConfigurableApplicationContext context = application.run(properties);
        System.out.println("READY " + ManagementFactory.getRuntimeMXBean().getUptime());
        System.out.flush();
        if (idleSeconds > 0) {
            Thread.sleep(idleSeconds * 1000L);
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(100);
            }
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            Map<String, Integer> threads = new TreeMap<>();
            for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
                threads.merge(info.getThreadName().replaceAll("\\d+", "#"), 1, Integer::sum);
            }
            System.out.println("HEAP " + heap);
            System.out.println(
                    "CLASSES " + ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
            threads.forEach((name, count) -> System.out.println("THREAD " + count + " " + name));
            System.out.println("DONE");
            System.out.flush();
        }
        context.close();
        System.exit(0);
    }
}
