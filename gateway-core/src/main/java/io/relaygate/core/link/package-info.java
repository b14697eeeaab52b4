/**
 * Both ends of the link between a local and a remote gateway: the handshakes, the {@link
 * io.relaygate.core.link.LinkSession} that owns an authenticated link and its {@link io.relaygate.core.link.LinkStream}s,
 * the local's connector with its pool of ready links, and the remote's acceptor of streams.
 */
package io.relaygate.core.link;
