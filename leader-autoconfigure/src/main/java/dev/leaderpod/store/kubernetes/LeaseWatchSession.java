package dev.leaderpod.store.kubernetes;

import dev.leaderpod.core.LeaseStore.LeaseWatch;
import dev.leaderpod.core.LeaseStore.LeaseWatcher;
import dev.leaderpod.core.LeaseStoreException;
import dev.leaderpod.core.LeaseStoreException.Kind;
import dev.leaderpod.core.VersionedLease;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.http.WebSocket;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One watch of one Lease: the WebSocket's listener, and the handle the elector closes. It ends once, either closed
 * by the elector (reported to nobody) or on the first failure (reported once through {@link LeaseWatcher#onClose});
 * after that it delivers nothing more and lets go of its WebSocket. Callbacks run on an event loop of the
 * application's client, shared with everything else the application does through it: nothing here blocks, and the
 * elector hands what it is told to its own thread (docs/design.md, "No I/O on the thread that ends terms").
 */
final class LeaseWatchSession implements LeaseWatch, WebSocket.Listener {

    private final KubernetesLeaseStore store;
    private final String name;
    private final LeaseWatcher watcher;
    private final KubernetesSerialization serialization;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile WebSocket socket;

    LeaseWatchSession(
            KubernetesLeaseStore store, String name, LeaseWatcher watcher, KubernetesSerialization serialization) {
        this.store = store;
        this.name = name;
        this.watcher = watcher;
        this.serialization = serialization;
    }

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
        store.forget(this);
        WebSocket open = socket;
        if (open != null) {
            open.sendClose(1000, null);
        }
        if (cause != null) {
            watcher.onClose(cause);
        }
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
                    Kind.OTHER, store.describe(name) + ": unreadable watch event (" + e.getMessage() + ")", e));
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
            Status status = serialization.convertValue(object, Status.class);
            end(store.watchError(name, status));
            return;
        }
        if (!(object instanceof Map<?, ?>) || "BOOKMARK".equals(type)) {
            return; // a bookmark carries no lease
        }
        GenericKubernetesResource lease = serialization.convertValue(object, GenericKubernetesResource.class);
        if ("DELETED".equals(type)) {
            store.watchedDeletion(name, lease);
            watcher.onChange(Optional.empty());
        } else if ("ADDED".equals(type) || "MODIFIED".equals(type)) {
            VersionedLease changed = store.watchedChange(name, lease);
            watcher.onChange(Optional.of(changed));
        }
    }

    @Override
    public void onClose(WebSocket webSocket, int code, String reason) {
        webSocket.sendClose(code, reason);
        // 1000: a normal end, as an API server ends every watch after a while; anything else: the connection broke.
        end(new LeaseStoreException(
                code == 1000 ? Kind.OTHER : Kind.UNAVAILABLE,
                store.describe(name) + ": the API server ended the watch (WebSocket close " + code
                        + (reason == null || reason.isEmpty() ? "" : " " + reason) + ")"));
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        end(store.watchFailure(name, error));
    }
}
