package io.relaygate.core.inbound;

import io.relaygate.spi.ProtocolEndpoint;

/**
 * A protocol endpoint with the name of the factory that made it, for logs and counters.
 *
 * @param name     the protocol's name, e.g. {@code socks5}
 * @param endpoint the plugin's endpoint
 */
public record Protocol(String name, ProtocolEndpoint endpoint) {
}
