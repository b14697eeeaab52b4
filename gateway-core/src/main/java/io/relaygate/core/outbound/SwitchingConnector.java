package io.relaygate.core.outbound;

import io.relaygate.core.reactor.EventLoop;
import io.relaygate.spi.Destination;

/**
 * A connector whose target can be replaced while the gateway runs (the console changes the local's remote): each
 * new tunnel uses the connector current when it starts; tunnels already set up are not touched. Thread-safe.
 */
public final class SwitchingConnector implements Connector {

    private volatile Connector current;

    public SwitchingConnector(Connector initial) {
        this.current = initial;
    }

    /** {@return the connector new tunnels use} */
    public Connector current() {
        return current;
    }

    /** Makes new tunnels use {@code next}. */
    public void switchTo(Connector next) {
        current = next;
    }

    @Override
    public Attempt connect(EventLoop loop, Destination destination, Callback callback) {
        return current.connect(loop, destination, callback);
    }

    @Override
    public Attempt datagrams(EventLoop loop, DatagramPath.Receiver receiver, DatagramPath.Callback callback) {
        return current.datagrams(loop, receiver, callback);
    }
}
