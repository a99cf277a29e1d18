/** Spring Integration leader events ({@code OnGrantedEvent}, {@code OnRevokedEvent}) for the lease election. */
package dev.leaderpod.events;
