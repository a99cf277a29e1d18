package dev.leaderpod.store.kubernetes;

import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.client.http.WebSocket;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The requests of the store on one namespace's Leases: where they go and what they carry. Each is one request,
 * bounded, through {@link BoundedHttp}; whatever status it is answered with is the caller's to translate.
 */
final class LeaseApi {

    private static final String JSON = "application/json";

    private final BoundedHttp http;
    private final String namespace;
    private final String leasesUrl;

    LeaseApi(BoundedHttp http, URL masterUrl, String namespace) {
        this.http = http;
        this.namespace = namespace;
        String base = masterUrl.toString();
        this.leasesUrl = (base.endsWith("/") ? base : base + "/") + "apis/coordination.k8s.io/v1/namespaces/"
                + encode(namespace) + "/leases";
    }

    /** The Lease {@code name}, as failures and logs name it. */
    String describe(String name) {
        return "Kubernetes Lease " + namespace + "/" + name;
    }

    Reply get(String name) {
        return http.send(http.request(leaseUrl(name)).build(), describe(name), "get");
    }

    Reply post(String name, String json) {
        return http.send(http.request(leasesUrl).post(JSON, json).build(), describe(name), "create");
    }

    /** A PUT: the caller puts the expected {@code metadata.resourceVersion} in {@code json}. */
    Reply put(String name, String json) {
        return http.send(http.request(leaseUrl(name)).put(JSON, json).build(), describe(name), "update");
    }

    /**
     * Starts a watch of the Lease {@code name}, with bookmarks, its events going to {@code listener}.
     *
     * @throws dev.leaderpod.core.LeaseStoreException the watch did not start within the bound, or was refused
     */
    void watch(String name, WebSocket.Listener listener) {
        http.openWebSocket(
                URI.create(leasesUrl + "?allowWatchBookmarks=true&fieldSelector=" + encode("metadata.name=" + name)
                        + "&watch=true"),
                listener,
                describe(name),
                "watch");
    }

    /** Refuses further requests. */
    void close() {
        http.close();
    }

    private String leaseUrl(String name) {
        return leasesUrl + "/" + encode(name);
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
