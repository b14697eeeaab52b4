/**
 * Where tunnels go: the {@link io.relaygate.core.outbound.Dialer} (resolution off the loop, the destination policy
 * per address, connect attempts) and the {@link io.relaygate.core.outbound.Connector}s that give a tunnel its
 * upstream port.
 */
package io.relaygate.core.outbound;
