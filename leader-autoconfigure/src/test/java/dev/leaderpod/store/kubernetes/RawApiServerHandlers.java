package dev.leaderpod.store.kubernetes;

import dev.leaderpod.store.kubernetes.RawApiServer.Handler;

/** Handlers for {@link RawApiServer} shared by the tests. */
final class RawApiServerHandlers {

    private RawApiServerHandlers() {}

    /** Answers every request with {@code 200} and {@code json}. */
    static Handler answering(String json) {
        return (request, connection) -> connection.respond(200, json);
    }

    /** Answers every request with {@code code} and a Kubernetes Status carrying {@code message}, then closes. */
    static Handler failing(int code, String reason, String message) {
        return (request, connection) -> connection.respondAndClose(code, status(code, reason, message));
    }

    /** Reads each request and never answers it. */
    static Handler silent(long holdMillis) {
        return (request, connection) -> connection.stall(holdMillis);
    }

    static String status(int code, String reason, String message) {
        return """
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": %d, "reason": "%s",
                 "message": "%s"}
                """.formatted(code, reason, message);
    }
}
