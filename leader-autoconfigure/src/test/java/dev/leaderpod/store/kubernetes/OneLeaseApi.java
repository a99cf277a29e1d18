package dev.leaderpod.store.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.function.Consumer;

/**
 * A {@link RawApiServer} handler that keeps one Lease as the API server would: GET, POST, and PUT refused with 409
 * unless it carries the current resourceVersion, which grows by one on every write. A watch is accepted as a
 * WebSocket and sent only what the test sends, so a test decides when an event arrives.
 */
final class OneLeaseApi implements RawApiServer.Handler {

    private final KubernetesSerialization json = new KubernetesSerialization();
    private GenericKubernetesResource lease;
    private long version;

    @Override
    public void handle(RawApiServer.Request request, RawApiServer.Connection connection) throws Exception {
        if (request.isWebSocketUpgrade()) {
            connection.acceptWebSocket(request);
            connection.stall(30_000);
            return;
        }
        String answer;
        int code;
        synchronized (this) {
            switch (request.method()) {
                case "GET" -> {
                    code = lease == null ? 404 : 200;
                    answer = lease == null ? RawApiServerHandlers.status(404, "NotFound", "not found") : asJson();
                }
                case "POST" -> {
                    if (lease == null) {
                        lease = json.unmarshal(request.body(), GenericKubernetesResource.class);
                        lease.getMetadata().setResourceVersion(Long.toString(++version));
                        code = 201;
                        answer = asJson();
                    } else {
                        code = 409;
                        answer = RawApiServerHandlers.status(409, "AlreadyExists", "already exists");
                    }
                }
                case "PUT" -> {
                    GenericKubernetesResource put = json.unmarshal(request.body(), GenericKubernetesResource.class);
                    if (lease != null
                            && lease.getMetadata()
                                    .getResourceVersion()
                                    .equals(put.getMetadata().getResourceVersion())) {
                        lease = put;
                        lease.getMetadata().setResourceVersion(Long.toString(++version));
                        code = 200;
                        answer = asJson();
                    } else {
                        code = lease == null ? 404 : 409;
                        answer = RawApiServerHandlers.status(code, "Conflict", "the object has been modified");
                    }
                }
                default -> {
                    code = 405;
                    answer = RawApiServerHandlers.status(405, "MethodNotAllowed", request.method());
                }
            }
        }
        connection.respond(code, answer);
    }

    /** The Lease as it is now, as JSON. */
    synchronized String asJson() {
        return json.asJson(lease);
    }

    /** The Lease as it is now. */
    synchronized GenericKubernetesResource lease() {
        return json.unmarshal(asJson(), GenericKubernetesResource.class);
    }

    /** Someone else edits the Lease, as {@code kubectl edit} would: a write like any other. */
    synchronized void edit(Consumer<GenericKubernetesResource> change) {
        change.accept(lease);
        lease.getMetadata().setResourceVersion(Long.toString(++version));
    }
}
