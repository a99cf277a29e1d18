package dev.leaderpod.autoconfigure;

import dev.leaderpod.autoconfigure.LeaderProperties.StoreType;
import dev.leaderpod.core.ElectionSettings;
import dev.leaderpod.core.LeaseStore;
import dev.leaderpod.core.PresenceStore;
import dev.leaderpod.store.local.FileLeaseStore;
import dev.leaderpod.store.local.FilePresenceStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The local file store, and the presence of the candidates beside it: elects among the processes of this machine. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnLeaseStore(StoreType.LOCAL)
class LocalLeaseStoreConfiguration {

    private static final Logger log = LoggerFactory.getLogger(LocalLeaseStoreConfiguration.class);

    /**
     * The presence of this application's candidates (docs/design.md, "Presence"), in the lease directory. Declared
     * before the lease store, so that its condition sees only a {@link LeaseStore} of the application's own: with
     * one, elections live where that store keeps them, and presence backs off.
     */
    @Bean
    @ConditionalOnMissingBean({PresenceStore.class, LeaseStore.class})
    FilePresenceStore filePresenceStore(LeaderProperties properties, ElectionSettings settings) {
        return new FilePresenceStore(
                properties.getLocal().getDirectory(), settings.leaseName(), settings.requestTimeout());
    }

    @Bean
    @ConditionalOnMissingBean(LeaseStore.class)
    FileLeaseStore fileLeaseStore(LeaderProperties properties, ElectionSettings settings) {
        if (properties.getStore() == StoreType.AUTO) {
            log.warn(
                    "Leader election uses the local lease store in {}: no Kubernetes was detected, so only"
                            + " processes on this machine take part. Set leader.store=kubernetes to use a"
                            + " Kubernetes Lease, or leader.store=local to silence this warning.",
                    properties.getLocal().getDirectory());
        }
        return new FileLeaseStore(properties.getLocal().getDirectory(), settings.requestTimeout());
    }
}
