package dev.leaderpod.annotation;

/** Thrown by a {@code @LeaderOnly(onFollower = THROW)} method called while this instance does not lead. */
public class NotLeaderException extends IllegalStateException {

    public NotLeaderException(String message) {
        super(message);
    }
}
