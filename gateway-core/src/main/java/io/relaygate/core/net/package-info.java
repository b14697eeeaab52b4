/**
 * Connections as byte ports: the {@link io.relaygate.core.net.Port} the relay and the handshakes work on and its
 * socket implementation, the handshake lifecycle every connection shares, and the listening socket.
 */
package io.relaygate.core.net;
