package dev.leaderpod.benchmarks.contenders;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the candidates of one election reported, with {@link System#nanoTime()} stamps of this process: grants,
 * revocations and successful renews (sent and answered).
 */
public final class ElectionLog {

    /** One event. {@code sentNanos} is when the write that caused it left (renew/grant), else equal to {@code atNanos}. */
    public record Event(String identity, Kind kind, long atNanos, long sentNanos) {}

    public enum Kind {
        GRANTED,
        REVOKED,
        RENEWED
    }

    private final List<Event> events = new CopyOnWriteArrayList<>();

    public void granted(String identity) {
        long now = System.nanoTime();
        events.add(new Event(identity, Kind.GRANTED, now, now));
    }

    public void revoked(String identity) {
        long now = System.nanoTime();
        events.add(new Event(identity, Kind.REVOKED, now, now));
    }

    public void renewed(String identity, long sentNanos) {
        events.add(new Event(identity, Kind.RENEWED, System.nanoTime(), sentNanos));
    }

    public List<Event> events() {
        return List.copyOf(events);
    }

    /** The first grant to someone other than {@code identity} at or after {@code sinceNanos}. */
    public Event firstGrantAfter(long sinceNanos, String exceptIdentity) {
        for (Event event : events) {
            if (event.kind() == Kind.GRANTED
                    && event.atNanos() - sinceNanos >= 0
                    && !event.identity().equals(exceptIdentity)) {
                return event;
            }
        }
        return null;
    }

    /** The last successful renew (or acquire) of {@code identity} before {@code beforeNanos}. */
    public Event lastRenewBefore(String identity, long beforeNanos) {
        Event last = null;
        for (Event event : events) {
            if (event.kind() == Kind.RENEWED
                    && event.identity().equals(identity)
                    && event.atNanos() - beforeNanos <= 0) {
                last = event;
            }
        }
        return last;
    }
}
