package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One watch of Leases over a WebSocket: its listener, and the handle its owner closes. It ends once, either closed by
 * its owner (reported to nobody) or on the first failure (reported once through {@link #ended(LeaseStoreException)});
 * after that it delivers nothing more and lets go of its WebSocket. Callbacks run on an event loop of the
 * application's client, shared with everything else the application does through it: nothing here blocks, and the
 * elector hands what it is told to its own thread (docs/design.md, "No I/O on the thread that ends terms").
 *
 * <p>Subclasses get each Lease event ({@code ADDED}, {@code MODIFIED}, {@code DELETED}); bookmarks are dropped, an
 * {@code ERROR} event ends the watch.
 */
abstract class WatchSocket implements LeaseWatch, WebSocket.Listener {

    private final KubernetesSerialization serialization;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile WebSocket socket;

    WatchSocket(KubernetesSerialization serialization) {
        this.serialization = serialization;
    }

    /** What is watched, as failures name it. */
    abstract String subject();

    /** A Lease event: {@code ADDED}, {@code MODIFIED} or {@code DELETED}. */
    abstract void event(String type, GenericKubernetesResource lease);

    /** The failure an {@code ERROR} event reports. */
    abstract LeaseStoreException reported(Status status);

    /** The failure of a broken connection. */
    abstract LeaseStoreException failed(Throwable failure);

    /**
     * The watch ended, once: {@code cause} is null when its owner closed it, else the failure to tell the watcher of.
     */
    abstract void ended(LeaseStoreException cause);

    /** Ends the watch, telling the watcher why. Does nothing if it has ended already. */
    void fail(LeaseStoreException cause) {
        end(cause);
    }

    @Override
    public void close() {
        end(null);
    }

    boolean ended() {
        return ended.get();
    }

    private void end(LeaseStoreException cause) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        WebSocket open = socket;
        if (open != null) {
            open.sendClose(1000, null);
        }
        ended(cause);
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        socket = webSocket;
        if (ended.get()) { // abandoned before the handshake completed: let the late WebSocket go
            webSocket.sendClose(1000, null);
        }
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
        if (ended.get()) {
            return;
        }
        try {
            handle(text);
        } catch (LeaseStoreException e) {
            end(e);
        } catch (RuntimeException e) {
            end(new LeaseStoreException(
                    Kind.OTHER, subject() + ": unreadable watch event (" + e.getMessage() + ")", e));
        }
        if (!ended.get()) {
            webSocket.request();
        }
    }

    private void handle(String text) {
        Map<?, ?> event = serialization.unmarshal(text, Map.class);
        Object type = event.get("type");
        Object object = event.get("object");
        if ("ERROR".equals(type)) {
            end(reported(serialization.convertValue(object, Status.class)));
            return;
        }
        if (!(object instanceof Map<?, ?>) || "BOOKMARK".equals(type)) {
            return; // a bookmark carries no lease
        }
        if ("ADDED".equals(type) || "MODIFIED".equals(type) || "DELETED".equals(type)) {
            event((String) type, serialization.convertValue(object, GenericKubernetesResource.class));
        }
    }

    @Override
    public void onClose(WebSocket webSocket, int code, String reason) {
        webSocket.sendClose(code, reason);
        // 1000: a normal end, as an API server ends every watch after a while; anything else: the connection broke.
        end(new LeaseStoreException(
                code == 1000 ? Kind.OTHER : Kind.UNAVAILABLE,
                subject() + ": the API server ended the watch (WebSocket close " + code
                        + (reason == null || reason.isEmpty() ? "" : " " + reason) + ")"));
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        end(failed(error));
    }
}
