package dev.leaderpod.core;

/** A conditional write lost: the lease changed (or appeared, or vanished) since the version we knew. */
public class LeaseConflictException extends LeaseStoreException {

    public LeaseConflictException(String message) {
        super(Kind.CONFLICT, message);
    }

    public LeaseConflictException(String message, Throwable cause) {
        super(Kind.CONFLICT, message, cause);
    }
}
