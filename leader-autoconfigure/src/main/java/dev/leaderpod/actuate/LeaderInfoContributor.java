package dev.leaderpod.actuate;

import dev.leaderpod.actuate.LeaderEndpoint.LeaderDescriptor;
import dev.leaderpod.core.LeaseElector;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;

/** Adds the election, as the {@code leader} endpoint reads it, under the {@code leader} key of the info endpoint. */
final class LeaderInfoContributor implements InfoContributor {

    private final LeaseElector elector;

    LeaderInfoContributor(LeaseElector elector) {
        this.elector = elector;
    }

    @Override
    public void contribute(Info.Builder builder) {
        builder.withDetail("leader", LeaderDescriptor.of(LeaseStatus.of(elector)));
    }
}
