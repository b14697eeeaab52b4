/**
 * Client connections from accept to close: protocol detection, the handshake, dialing the destination and the
 * relay with backpressure, half-close and reset propagation.
 */
package io.relaygate.core.tunnel;
