package dev.leaderpod.benchmarks.chaos;

import dev.leaderpod.benchmarks.support.MockApiServer;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Somebody who is not a candidate, editing the Lease through the API server as {@code kubectl edit} would: read it,
 * change fields of its spec, write it back conditionally on the version read (a conflict means somebody wrote
 * meanwhile: the edit is dropped, as kubectl reports it). Or {@code kubectl delete lease}.
 *
 * <p>Its requests carry {@link #ACTOR_HEADER}, so the harness's injected server faults leave them alone (they go
 * straight to the server, not through a candidate's proxy).
 */
final class ThirdPartyWriter implements AutoCloseable {

    /** Marks the third party's requests. */
    static final String ACTOR_HEADER = "X-Chaos-Actor";

    private final KubernetesClient client;
    private final String namespace;
    private final String lease;
    private int strangers;

    ThirdPartyWriter(MockApiServer server, String namespace, String lease) {
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(server.url())
                .withNamespace(namespace)
                .withRequestRetryBackoffLimit(0)
                .build();
        config.setCustomHeaders(Map.of(ACTOR_HEADER, "third-party"));
        this.client = new KubernetesClientBuilder().withConfig(config).build();
        this.namespace = namespace;
        this.lease = lease;
    }

    /**
     * One edit of one to three fields, chosen with {@code random}: {@code holderIdentity} set to another of the
     * {@code candidates} or to a stranger, {@code leaseDurationSeconds} shortened (to 1 s, or below the configured
     * {@code leaseDuration}), {@code leaseTransitions} reset or lowered, {@code renewTime} moved by a minute to
     * six hours either way.
     *
     * @return what was changed, one entry per field; empty if there was no Lease or the write lost a race
     */
    List<String> edit(SplittableRandom random, List<String> candidates, Duration leaseDuration) {
        Resource<Lease> resource = leases().withName(lease);
        Lease current = resource.get();
        if (current == null) {
            return List.of();
        }
        LeaseSpec spec = current.getSpec() == null ? new LeaseSpec() : current.getSpec();
        current.setSpec(spec);
        List<String> changes = new ArrayList<>();
        int holderRoll = random.nextInt(100);
        List<String> others = candidates.stream()
                .filter(c -> !c.equals(spec.getHolderIdentity()))
                .toList();
        if (holderRoll < 30 && !others.isEmpty()) {
            spec.setHolderIdentity(others.get(random.nextInt(others.size())));
            changes.add("holder set to another candidate");
        } else if (holderRoll < 50) {
            spec.setHolderIdentity("stranger-" + ++strangers);
            changes.add("holder set to a stranger");
        }
        if (random.nextInt(100) < 45) {
            int seconds = (int) Math.max(1, leaseDuration.toSeconds() - 1);
            spec.setLeaseDurationSeconds(random.nextBoolean() ? 1 : 1 + random.nextInt(seconds));
            changes.add("leaseDurationSeconds shortened");
        }
        if (random.nextInt(100) < 35) {
            Integer transitions = spec.getLeaseTransitions();
            spec.setLeaseTransitions(
                    transitions == null || transitions <= 1 || random.nextBoolean() ? 0 : random.nextInt(transitions));
            changes.add("leaseTransitions reset or lowered");
        }
        if (random.nextInt(100) < 35 || changes.isEmpty()) {
            ZonedDateTime renew = spec.getRenewTime() == null ? ZonedDateTime.now(ZoneOffset.UTC) : spec.getRenewTime();
            long seconds = 60 + random.nextLong(6 * 3600 - 60);
            spec.setRenewTime(renew.plusSeconds(random.nextBoolean() ? seconds : -seconds));
            changes.add("renewTime moved");
        }
        try {
            leases().resource(current).update(); // PUT with the resourceVersion read: 409 if anybody wrote since
            return changes;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                return List.of();
            }
            throw e;
        }
    }

    /** {@code kubectl delete lease}; whether there was one to delete. */
    boolean delete() {
        return !leases().withName(lease).delete().isEmpty();
    }

    /** Whether the Lease exists right now. */
    boolean exists() {
        return leases().withName(lease).get() != null;
    }

    private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
                    Lease, io.fabric8.kubernetes.api.model.coordination.v1.LeaseList, Resource<Lease>>
            leases() {
        return client.leases().inNamespace(namespace);
    }

    @Override
    public void close() {
        client.close();
    }
}
