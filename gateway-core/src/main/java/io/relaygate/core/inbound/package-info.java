/**
 * Client connections from the first byte to the relay: protocol detection over the plugins' endpoints, their
 * handshakes, password checks off the loop, and the tunnel's request to a connector.
 */
package io.relaygate.core.inbound;
