package dev.leaderpod.actuate;

import dev.leaderpod.actuate.LeaderEndpoint.LeaderDescriptor;
import dev.leaderpod.core.LeaseElector;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;

/**
 * Adds the elections, as the {@code leader} endpoint reads them, under the {@code leader} key of the info endpoint.
 */
final class LeaderInfoContributor implements InfoContributor {

    private final LeaseElector elector;
    private final Supplier<Map<String, LeaseElector>> namedElectors;

    /**
     * @param elector the default election's elector
     * @param namedElectors the named elections this instance is a candidate in, by name
     */
    LeaderInfoContributor(LeaseElector elector, Supplier<Map<String, LeaseElector>> namedElectors) {
        this.elector = elector;
        this.namedElectors = namedElectors;
    }

    @Override
    public void contribute(Info.Builder builder) {
        builder.withDetail("leader", LeaderDescriptor.of(elector, namedElectors.get(), null));
    }
}
