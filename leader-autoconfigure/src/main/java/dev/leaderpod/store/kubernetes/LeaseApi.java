package dev.leaderpod.store.kubernetes;

import dev.leaderpod.store.kubernetes.BoundedHttp.Reply;
import io.fabric8.kubernetes.client.http.WebSocket;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The requests of the stores on one namespace's Leases: where they go and what they carry. Each is one request,
 * bounded, through {@link BoundedHttp}; whatever status it is answered with is the caller's to translate. The lease
 * store reads and writes one Lease by name; the presence store also lists, watches and deletes, and names what its
 * requests are about itself ({@code subject}).
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
        return get(name, describe(name));
    }

    Reply get(String name, String subject) {
        return http.send(http.request(leaseUrl(name)).build(), subject, "get");
    }

    Reply post(String name, String json) {
        return create(json, describe(name));
    }

    /** A POST of the Lease {@code json}. */
    Reply create(String json, String subject) {
        return http.send(http.request(leasesUrl).post(JSON, json).build(), subject, "create");
    }

    /** A PUT: the caller puts the expected {@code metadata.resourceVersion} in {@code json}. */
    Reply put(String name, String json) {
        return put(name, json, describe(name));
    }

    /** A PUT: the caller puts the expected {@code metadata.resourceVersion} in {@code json}. */
    Reply put(String name, String json, String subject) {
        return http.send(http.request(leaseUrl(name)).put(JSON, json).build(), subject, "update");
    }

    /** The Leases whose labels match {@code labelSelector}, in one answer. */
    Reply list(String labelSelector, String subject) {
        return http.send(
                http.request(leasesUrl + "?labelSelector=" + encode(labelSelector))
                        .build(),
                subject,
                "list");
    }

    /**
     * A DELETE carrying {@code deleteOptions}, a {@code DeleteOptions} object, as fabric8's own
     * {@code lockResourceVersion(version).delete()} sends it: with {@code preconditions.resourceVersion}, the API
     * server deletes only that version of the Lease and answers 409 otherwise.
     */
    Reply delete(String name, String deleteOptions, String subject) {
        return http.send(
                http.request(leaseUrl(name)).delete(JSON, deleteOptions).build(), subject, "delete");
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

    /**
     * Starts a watch of the Leases whose labels match {@code labelSelector}, with bookmarks, its events going to
     * {@code listener}.
     *
     * @throws dev.leaderpod.core.LeaseStoreException the watch did not start within the bound, or was refused
     */
    void watchSelected(String labelSelector, WebSocket.Listener listener, String subject) {
        http.openWebSocket(
                URI.create(
                        leasesUrl + "?allowWatchBookmarks=true&labelSelector=" + encode(labelSelector) + "&watch=true"),
                listener,
                subject,
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
