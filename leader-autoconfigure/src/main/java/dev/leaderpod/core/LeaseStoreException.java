package dev.leaderpod.core;

/** A store call failed. {@link #kind()} tells the elector and the metrics what went wrong. */
public class LeaseStoreException extends RuntimeException {

    /** Why a store call failed. */
    public enum Kind {
        /** Somebody else wrote first (HTTP 409), or the lease vanished under an update. */
        CONFLICT,
        /** Not allowed (HTTP 401/403): a missing RBAC rule. */
        FORBIDDEN,
        /** The call did not complete within the request timeout. */
        TIMEOUT,
        /** The server could not be reached. */
        UNAVAILABLE,
        /** The server answered with an error (HTTP 5xx or unexpected status). */
        SERVER_ERROR,
        /** Anything else, such as unreadable content. */
        OTHER
    }

    private final Kind kind;

    public LeaseStoreException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public LeaseStoreException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }
}
