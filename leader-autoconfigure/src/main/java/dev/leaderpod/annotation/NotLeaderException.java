package dev.leaderpod.annotation;

import java.lang.reflect.Method;
import java.util.Optional;

/** Thrown by a {@code @LeaderOnly(onFollower = THROW)} method called while this instance does not lead. */
public class NotLeaderException extends IllegalStateException {

    private final transient Method method;
    private final String leader;

    public NotLeaderException(String message) {
        this(message, null, null);
    }

    /**
     * @param message what was refused, and why
     * @param method the refused method, if known
     * @param leader the identity of the leader this instance last saw, or {@code null} if none
     */
    public NotLeaderException(String message, Method method, String leader) {
        super(message);
        this.method = method;
        this.leader = leader;
    }

    /** The method that did not run. */
    public Optional<Method> getMethod() {
        return Optional.ofNullable(method);
    }

    /**
     * The identity of the leader this instance last saw: where the call could be sent instead. Empty when the lease
     * was free or not seen yet.
     */
    public Optional<String> getLeader() {
        return Optional.ofNullable(leader);
    }
}
