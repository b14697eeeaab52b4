package io.relaygate.core.tunnel;

import io.relaygate.core.policy.ConnectionLimits;
import java.net.InetSocketAddress;

/** One client connection: what the access log says about it, and its permit. Confined to its loop. */
final class TunnelRecord {
    final InetSocketAddress client;
    /** The connection's hold on the caps: whoever closes it last (the connection or its relay) releases it. */
    final ConnectionLimits.Permit permit;
    final long startNanos;
    String protocol = "-";
    String user;
    String destination;
    long bytesUp;
    long bytesDown;
    String outcome;

    TunnelRecord(InetSocketAddress client, ConnectionLimits.Permit permit, long startNanos) {
        this.client = client;
        this.permit = permit;
        this.startNanos = startNanos;
    }

    @Override
    public String toString() {
        return protocol + " " + client + " => " + destination;
    }
}
