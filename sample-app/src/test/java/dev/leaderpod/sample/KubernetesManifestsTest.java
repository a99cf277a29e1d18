package dev.leaderpod.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.leaderpod.autoconfigure.LeaderProperties;
import dev.leaderpod.core.LeaseElector;
import dev.leaderpod.store.kubernetes.KubernetesPresenceStore;
import dev.leaderpod.store.kubernetes.LeaderPodLabeler;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.ClassPathResource;

/**
 * Loads every manifest in {@code sample-app/k8s} and checks it against the code: the Role grants exactly the verbs
 * the sample sends to the API server (recorded while it runs with the Deployment's environment against the fabric8
 * CRUD mock) and those the candidates' presence needs, the downward API wiring of identity and namespace, probes, Services, and that the grace period covers
 * an orderly leader shutdown.
 */
class KubernetesManifestsTest {

    private static final Path K8S = Path.of("k8s");
    private static final String IMAGE = System.getProperty("sample.image", "leaderpod-sample:0.1.0-SNAPSHOT");
    private static final String NAMESPACE = "demo";
    private static final String POD = "leaderpod-sample-6c9f8d7b5-x2x4q";
    private static final String TEST_CLIENT_HEADER = "X-Test-Client";

    /** Verbs per "group/resource", as the sample sent them. */
    private static Map<String, Set<String>> calledVerbs;

    private static final KubernetesClient PARSER =
            new KubernetesClientBuilder().withConfig(Config.empty()).build();

    // --- what the code calls

    @BeforeAll
    static void recordWhatTheSampleCalls() throws Exception {
        Deployment deployment = only(load("deployment.yaml"), Deployment.class);
        KubernetesMockServer server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        // The test's own requests carry a header, so that only the sample's are counted.
        try (KubernetesClient admin = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(server.createClient().getConfiguration())
                        .withCustomHeaders(Map.of(TEST_CLIENT_HEADER, "admin"))
                        .build())
                .build()) {
            admin.pods()
                    .inNamespace(NAMESPACE)
                    .resource(new PodBuilder()
                            .withNewMetadata()
                            .withName(POD)
                            .endMetadata()
                            .build())
                    .create();

            // The sample with the Deployment's environment (downward API values filled in) against the mock API:
            // it wins the election, renews, labels its pod, and on close unlabels it and releases the Lease.
            Map<String, Object> env =
                    containerEnvironment(appContainer(deployment.getSpec().getTemplate()));
            try (KubernetesClient client = server.createClient();
                    RunningApp app = RunningApp.start(
                            builder -> builder.initializers(context -> {
                                context.getBeanFactory().registerSingleton("kubernetesClient", client);
                                context.getEnvironment()
                                        .getPropertySources()
                                        .addFirst(new SystemEnvironmentPropertySource(
                                                "deployment-systemEnvironment", env));
                            }),
                            "leader.retry-period=500ms")) {
                // The fresh mock API server has no Lease: nobody creates it before it has been missing for one
                // lease duration (the Deployment's, 15 s), as on a cluster's very first start.
                Duration leaseDuration =
                        app.context.getBean(LeaseElector.class).settings().leaseDuration();
                await().atMost(leaseDuration.plus(Duration.ofSeconds(20)))
                        .until(() -> app.status().at("/self/leader").asBoolean());
                await().atMost(Duration.ofSeconds(20)).until(() -> "true".equals(podLabel(admin)));
                await().atMost(Duration.ofSeconds(10)) // a renew after the first write
                        .until(() -> {
                            LeaseSpec lease = admin.leases()
                                    .inNamespace(NAMESPACE)
                                    .withName("leaderpod-sample")
                                    .get()
                                    .getSpec();
                            return lease.getRenewTime().isAfter(lease.getAcquireTime());
                        });
                await().atMost(Duration.ofSeconds(10)) // the Kubernetes Event of the grant, posted in the background
                        .until(() -> !admin.v1()
                                .events()
                                .inNamespace(NAMESPACE)
                                .list()
                                .getItems()
                                .isEmpty());
            }
            List<RecordedRequest> requests = new ArrayList<>();
            for (int i = 0; i < server.getRequestCount(); i++) {
                requests.add(server.takeRequest(5, TimeUnit.SECONDS));
            }
            calledVerbs = new TreeMap<>();
            for (RecordedRequest request : requests) {
                if (request.getHeader(TEST_CLIENT_HEADER) != null) {
                    continue;
                }
                String[] call = classify(request);
                calledVerbs.computeIfAbsent(call[0], key -> new TreeSet<>()).add(call[1]);
            }
            assertThat(admin.leases()
                            .inNamespace(NAMESPACE)
                            .withName("leaderpod-sample")
                            .get())
                    .as("the Lease, in the pod's namespace")
                    .isNotNull();
            assertThat(podLabel(admin)).as("label removed on shutdown").isNotEqualTo("true");
        } finally {
            server.destroy();
        }
    }

    @Test
    void roleGrantsExactlyTheVerbsTheSampleSendsAndThoseOfPresence() throws IOException {
        Role role = only(load("role.yaml"), Role.class);
        assertThat(rules(role)).isEqualTo(neededVerbs());
        assertThat(calledVerbs.get("coordination.k8s.io/leases")).contains("create", "get", "update", "watch");
        assertThat(calledVerbs).containsEntry("/pods", Set.of("patch")).containsEntry("/events", Set.of("create"));
    }

    @Test
    void sidecarRoleGrantsExactlyTheLeaseAndEventVerbs() throws IOException {
        Role role = only(load("sidecar-example.yaml"), Role.class);
        Map<String, Set<String>> leaseVerbs = neededVerbs();
        leaseVerbs.remove("/pods"); // the sidecar does not label pods
        assertThat(rules(role)).isEqualTo(leaseVerbs);
    }

    /**
     * What the sample sent, and what the candidates' presence needs on Leases (list, watch, delete), which a run as
     * short as this one may not send: the rule {@link KubernetesPresenceStore#RBAC_RULE} names in its 403s.
     */
    private static Map<String, Set<String>> neededVerbs() {
        Map<String, Set<String>> needed = new TreeMap<>();
        calledVerbs.forEach((resource, verbs) -> needed.put(resource, new TreeSet<>(verbs)));
        Matcher quoted = Pattern.compile("\"([a-z]+)\"")
                .matcher(KubernetesPresenceStore.RBAC_RULE.substring(
                        KubernetesPresenceStore.RBAC_RULE.indexOf("verbs:")));
        Set<String> presence = new TreeSet<>();
        while (quoted.find()) {
            presence.add(quoted.group(1));
        }
        assertThat(presence).contains("list", "watch", "delete");
        needed.computeIfAbsent("coordination.k8s.io/leases", key -> new TreeSet<>())
                .addAll(presence);
        return needed;
    }

    // --- wiring

    @Test
    void kustomizationListsEveryManifestButTheSidecarExample() throws IOException {
        JsonNode kustomization = new ObjectMapper(new YAMLFactory())
                .readTree(K8S.resolve("kustomization.yaml").toFile());
        Set<String> listed = new TreeSet<>();
        kustomization.at("/resources").forEach(resource -> listed.add(resource.asText()));
        Set<String> files;
        try (Stream<Path> paths = Files.list(K8S)) {
            files = paths.map(path -> path.getFileName().toString())
                    .filter(name -> name.endsWith(".yaml"))
                    .filter(name -> !name.equals("kustomization.yaml") && !name.equals("sidecar-example.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(listed).isEqualTo(files);
    }

    @Test
    void deploymentRunsThreeReplicasUnderTheBoundServiceAccount() throws IOException {
        Deployment deployment = only(load("deployment.yaml"), Deployment.class);
        ServiceAccount account = only(load("serviceaccount.yaml"), ServiceAccount.class);
        RoleBinding binding = only(load("rolebinding.yaml"), RoleBinding.class);
        Role role = only(load("role.yaml"), Role.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();

        assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
        assertThat(pod.getServiceAccountName()).isEqualTo(account.getMetadata().getName());
        assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(subject -> {
            assertThat(subject.getKind()).isEqualTo("ServiceAccount");
            assertThat(subject.getName()).isEqualTo(account.getMetadata().getName());
        });
        assertThat(appContainer(deployment.getSpec().getTemplate()).getImage()).isEqualTo(IMAGE);
        assertThat(deployment.getSpec().getSelector().getMatchLabels())
                .isEqualTo(deployment.getSpec().getTemplate().getMetadata().getLabels());
    }

    @Test
    void identityAndNamespaceComeFromTheDownwardApi() throws IOException {
        for (PodTemplateSpec template : templatesRunningTheSample()) {
            Container container = appContainer(template);
            assertThat(fieldRef(container, "POD_NAME")).as("POD_NAME").isEqualTo("metadata.name");
            assertThat(fieldRef(container, "LEADER_NAMESPACE"))
                    .as("leader.namespace")
                    .isEqualTo("metadata.namespace");
            Map<String, Object> env = containerEnvironment(container);
            LeaderProperties leader = leaderProperties(env);
            assertThat(leader.getNamespace()).isEqualTo(NAMESPACE);
            assertThat(leader.getStore()).isEqualTo(LeaderProperties.StoreType.KUBERNETES);
        }
        Container app = appContainer(
                only(load("deployment.yaml"), Deployment.class).getSpec().getTemplate());
        assertThat(fieldRef(app, "POD_NAMESPACE")).isEqualTo("metadata.namespace");
        assertThat(leaderProperties(containerEnvironment(app)).getKubernetes().isLabelPod())
                .isTrue();
    }

    @Test
    void gracePeriodCoversDrainReleaseAndWebShutdown() throws IOException {
        for (PodTemplateSpec template : templatesRunningTheSample()) {
            Map<String, Object> env = containerEnvironment(appContainer(template));
            LeaderProperties leader = leaderProperties(env);
            Duration requestTimeout = leader.getRequestTimeout() != null
                    ? leader.getRequestTimeout()
                    : leader.getRenewDeadline().dividedBy(2);
            Duration shutdownPhase = binder(env)
                    .bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                    .orElse(Duration.ofSeconds(30));
            Duration grace = Duration.ofSeconds(template.getSpec().getTerminationGracePeriodSeconds());

            Duration leaderShutdown = leader.getDrainTimeout().plus(requestTimeout.multipliedBy(2));
            assertThat(grace).as("grace > drain-timeout + 2 x request-timeout").isGreaterThan(leaderShutdown);
            assertThat(grace)
                    .as("grace > that + web server shutdown phase")
                    .isGreaterThan(leaderShutdown.plus(shutdownPhase));
        }
    }

    @Test
    void probesUseTheHealthGroupsOnANamedPort() throws IOException {
        Container app = appContainer(
                only(load("deployment.yaml"), Deployment.class).getSpec().getTemplate());
        assertThat(path(app.getLivenessProbe())).isEqualTo("/actuator/health/liveness");
        assertThat(path(app.getReadinessProbe())).isEqualTo("/actuator/health/readiness");
        assertThat(path(app.getStartupProbe())).isEqualTo("/actuator/health/liveness");
        assertThat(app.getPorts()).anySatisfy(port -> {
            assertThat(port.getName()).isEqualTo("http");
            assertThat(port.getContainerPort()).isEqualTo(8080); // server.port's default
        });
        assertThat(app.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");

        Container sidecar = appContainer(
                only(load("sidecar-example.yaml"), Deployment.class).getSpec().getTemplate());
        int managementPort = binder(containerEnvironment(sidecar))
                .bind("management.server.port", Integer.class)
                .get();
        assertThat(sidecar.getPorts())
                .anySatisfy(port -> assertThat(port.getContainerPort()).isEqualTo(managementPort));
        assertThat(path(sidecar.getReadinessProbe())).isEqualTo("/actuator/health/readiness");
    }

    @Test
    void servicesSelectTheReplicasAndTheLeader() throws IOException {
        Deployment deployment = only(load("deployment.yaml"), Deployment.class);
        Map<String, String> podLabels =
                deployment.getSpec().getTemplate().getMetadata().getLabels();
        Service all = only(load("service.yaml"), Service.class);
        Service leader = only(load("service-leader.yaml"), Service.class);

        assertThat(podLabels).containsAllEntriesOf(all.getSpec().getSelector());
        Map<String, String> leaderSelector = new LinkedHashMap<>(podLabels);
        leaderSelector.put(LeaderPodLabeler.LABEL, "true");
        assertThat(leader.getSpec().getSelector()).isEqualTo(leaderSelector);
        for (Service service : List.of(all, leader)) {
            assertThat(service.getSpec().getPorts())
                    .singleElement()
                    .satisfies(
                            port -> assertThat(port.getTargetPort().getStrVal()).isEqualTo("http"));
        }
    }

    @Test
    void sidecarExampleAsksTheSidecarOnLocalhost() throws IOException {
        PodTemplateSpec template =
                only(load("sidecar-example.yaml"), Deployment.class).getSpec().getTemplate();
        assertThat(template.getSpec().getContainers()).hasSize(2);
        Container sidecar = appContainer(template);
        assertThat(env(sidecar, "SPRING_PROFILES_ACTIVE")).isEqualTo("sidecar");
        Container app = template.getSpec().getContainers().stream()
                .filter(container -> container != sidecar)
                .findFirst()
                .orElseThrow();
        int port = binder(containerEnvironment(sidecar))
                .bind("server.port", Integer.class)
                .get();
        assertThat(String.join(" ", app.getCommand())).contains("http://127.0.0.1:" + port + "/");
        assertThat(template.getSpec().getServiceAccountName())
                .isEqualTo(only(load("sidecar-example.yaml"), ServiceAccount.class)
                        .getMetadata()
                        .getName());
    }

    // --- helpers

    private static List<HasMetadata> load(String file) throws IOException {
        try (InputStream in = Files.newInputStream(K8S.resolve(file))) {
            return PARSER.load(in).items();
        }
    }

    private static <T> T only(List<HasMetadata> objects, Class<T> type) {
        List<T> matching =
                objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(matching).as("one " + type.getSimpleName()).hasSize(1);
        return matching.get(0);
    }

    private static List<PodTemplateSpec> templatesRunningTheSample() throws IOException {
        return List.of(
                only(load("deployment.yaml"), Deployment.class).getSpec().getTemplate(),
                only(load("sidecar-example.yaml"), Deployment.class).getSpec().getTemplate());
    }

    private static Container appContainer(PodTemplateSpec template) {
        List<Container> sample = template.getSpec().getContainers().stream()
                .filter(container -> IMAGE.equals(container.getImage()))
                .toList();
        assertThat(sample).as("one container running " + IMAGE).hasSize(1);
        return sample.get(0);
    }

    private static String fieldRef(Container container, String name) {
        EnvVar var = container.getEnv().stream()
                .filter(env -> env.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name));
        return var.getValueFrom() == null || var.getValueFrom().getFieldRef() == null
                ? null
                : var.getValueFrom().getFieldRef().getFieldPath();
    }

    private static String env(Container container, String name) {
        return container.getEnv().stream()
                .filter(env -> env.getName().equals(name))
                .map(EnvVar::getValue)
                .findFirst()
                .orElse(null);
    }

    /** The container's environment as the process sees it, with the downward API's values for the test pod. */
    private static Map<String, Object> containerEnvironment(Container container) {
        Map<String, Object> env = new LinkedHashMap<>();
        for (EnvVar var : container.getEnv()) {
            if (var.getValue() != null) {
                env.put(var.getName(), var.getValue());
            } else if (var.getValueFrom() != null && var.getValueFrom().getFieldRef() != null) {
                String field = var.getValueFrom().getFieldRef().getFieldPath();
                env.put(
                        var.getName(),
                        switch (field) {
                            case "metadata.name" -> POD;
                            case "metadata.namespace" -> NAMESPACE;
                            default -> throw new AssertionError("unexpected fieldRef " + field);
                        });
            }
        }
        return env;
    }

    /** Spring's view of the container: its environment over the packaged application(-profile).yaml. */
    private static Binder binder(Map<String, Object> env) throws IOException {
        MutablePropertySources sources = new MutablePropertySources();
        sources.addLast(new SystemEnvironmentPropertySource("container-systemEnvironment", env));
        Object profile = env.get("SPRING_PROFILES_ACTIVE");
        if (profile != null) {
            yaml("application-" + profile + ".yaml").forEach(sources::addLast);
        }
        yaml("application.yaml").forEach(sources::addLast);
        return new Binder(ConfigurationPropertySources.from(sources));
    }

    private static List<PropertySource<?>> yaml(String resource) throws IOException {
        return new YamlPropertySourceLoader().load(resource, new ClassPathResource(resource));
    }

    private static LeaderProperties leaderProperties(Map<String, Object> env) throws IOException {
        return binder(env).bindOrCreate("leader", LeaderProperties.class);
    }

    private static Map<String, Set<String>> rules(Role role) {
        Map<String, Set<String>> rules = new TreeMap<>();
        for (PolicyRule rule : role.getRules()) {
            assertThat(rule.getResourceNames()).as("resourceNames").isNullOrEmpty();
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    rules.computeIfAbsent(group + "/" + resource, key -> new TreeSet<>())
                            .addAll(rule.getVerbs());
                }
            }
        }
        return rules;
    }

    private static String path(Probe probe) {
        return probe.getHttpGet().getPath();
    }

    private static String podLabel(KubernetesClient admin) {
        Map<String, String> labels = admin.pods()
                .inNamespace(NAMESPACE)
                .withName(POD)
                .get()
                .getMetadata()
                .getLabels();
        return labels == null ? null : labels.get(LeaderPodLabeler.LABEL);
    }

    /** {@code ["group/resource", "verb"]} of one API request, by the rules the API server authorizes with. */
    private static String[] classify(RecordedRequest request) {
        URI uri = URI.create(request.getPath());
        String[] segments = uri.getPath().substring(1).split("/");
        // /api/v1/namespaces/{ns}/{resource}[/{name}] or /apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}]
        boolean core = segments[0].equals("api");
        String group = core ? "" : segments[1];
        int namespaces = core ? 2 : 3;
        assertThat(segments[namespaces]).as("namespaced request " + uri).isEqualTo("namespaces");
        assertThat(segments[namespaces + 1]).as("namespace of " + uri).isEqualTo(NAMESPACE);
        String resource = segments[namespaces + 2];
        boolean named = segments.length > namespaces + 3;
        String query = uri.getQuery() == null ? "" : uri.getQuery();
        String verb =
                switch (request.getMethod()) {
                    case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
                    case "POST" -> "create";
                    case "PUT" -> "update";
                    case "PATCH" -> "patch";
                    case "DELETE" -> named ? "delete" : "deletecollection";
                    default -> throw new AssertionError("unexpected " + request.getMethod() + " " + uri);
                };
        return new String[] {group + "/" + resource, verb};
    }
}
