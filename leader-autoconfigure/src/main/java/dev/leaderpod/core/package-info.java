/** Lease election algorithm: no Spring, no Kubernetes client. */
package dev.leaderpod.core;
