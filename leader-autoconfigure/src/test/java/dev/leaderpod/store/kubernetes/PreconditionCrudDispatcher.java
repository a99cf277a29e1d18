package dev.leaderpod.store.kubernetes;

import io.fabric8.kubernetes.api.model.DeleteOptions;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The fabric8 mock API server's CRUD mode, with the one thing of a real API server the presence store relies on that
 * it lacks: a DELETE whose {@code DeleteOptions} carry {@code preconditions.resourceVersion} deletes only that version,
 * and is answered 409 otherwise (the mock ignores a DELETE's body). Requests are handled one at a time, so the check
 * and the delete are one step, as in the API server. Keeps the body of every DELETE, which the mock does not record.
 */
public final class PreconditionCrudDispatcher extends KubernetesCrudDispatcher {

    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    /** The body of every DELETE, in order. */
    public final List<String> deleteBodies = new CopyOnWriteArrayList<>();

    /** A plain-HTTP mock API server in CRUD mode with this dispatcher, started. */
    public static KubernetesMockServer server(PreconditionCrudDispatcher dispatcher) {
        KubernetesMockServer server =
                new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
        server.init();
        return server;
    }

    @Override
    public synchronized MockResponse dispatch(RecordedRequest request) {
        if ("DELETE".equals(request.getMethod())) {
            String body = request.getUtf8Body();
            deleteBodies.add(body == null ? "" : body);
            String expected = expectedVersion(body);
            if (expected != null) {
                MockResponse current = handleGet(request.getPath());
                if (current.code() == 200) {
                    String actual = JSON.unmarshal(current.getBody().readUtf8(), GenericKubernetesResource.class)
                            .getMetadata()
                            .getResourceVersion();
                    if (!expected.equals(actual)) {
                        return new MockResponse().setResponseCode(409).setBody("""
                                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409,
                                 "reason": "Conflict", "message": "Precondition failed: ResourceVersion in \
                                precondition: %s, ResourceVersion in object meta: %s"}
                                """.formatted(expected, actual));
                    }
                }
            }
        }
        return super.dispatch(request);
    }

    private static String expectedVersion(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        DeleteOptions options = JSON.unmarshal(body, DeleteOptions.class);
        return options.getPreconditions() == null
                ? null
                : options.getPreconditions().getResourceVersion();
    }
}
