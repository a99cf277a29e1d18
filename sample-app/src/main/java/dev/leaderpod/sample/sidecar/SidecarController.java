package dev.leaderpod.sample.sidecar;

import dev.leaderpod.core.LeaseElector;
import java.util.Map;
import org.springframework.context.annotation.Profile;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Sidecar mode ({@code sidecar} profile): the classic Kubernetes {@code leader-elector} sidecar's answer, backed by
 * a Lease. A container in the same pod, in any language, asks {@code GET http://localhost:4040/} and leads when the
 * {@code name} it gets is its pod's name (the sidecar profile uses the pod name as identity).
 */
@RestController
@Profile("sidecar")
class SidecarController {

    private final LeaseElector elector;

    SidecarController(LeaseElector elector) {
        this.elector = elector;
    }

    /** {@code {"name":"<leader identity>"}}, or an empty name while nobody holds the lease. */
    @GetMapping(path = "/", produces = MediaType.APPLICATION_JSON_VALUE)
    Map<String, String> leader() {
        return Map.of("name", elector.snapshot().observedHolder().orElse(""));
    }
}
