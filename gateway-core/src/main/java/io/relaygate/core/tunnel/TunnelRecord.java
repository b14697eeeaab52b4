package io.relaygate.core.tunnel;

import java.net.InetSocketAddress;

/** What the access log says about one tunnel. Confined to the tunnel's loop. */
final class TunnelRecord {
    final InetSocketAddress client;
    final long startNanos;
    String protocol = "-";
    String user;
    String destination;
    long bytesUp;
    long bytesDown;
    String outcome;

    TunnelRecord(InetSocketAddress client, long startNanos) {
        this.client = client;
        this.startNanos = startNanos;
    }

    @Override
    public String toString() {
        return protocol + " " + client + " => " + destination;
    }
}
