/** The lease store on {@code coordination.k8s.io/v1} Lease objects, through the fabric8 Kubernetes client. */
package dev.leaderpod.store.kubernetes;
