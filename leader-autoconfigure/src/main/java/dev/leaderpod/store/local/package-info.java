/** A lease store in local files, for several processes on one machine: no Spring, no Kubernetes client. */
package dev.leaderpod.store.local;
