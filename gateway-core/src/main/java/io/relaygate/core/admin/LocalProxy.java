package io.relaygate.core.admin;

import io.relaygate.core.config.HostPort;
import io.relaygate.core.net.Listener;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.stats.GatewayStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local role's client listener ({@code mixed}), which the console stops and starts again on the address it had;
 * tunnels already open go on. Thread-safe.
 */
public final class LocalProxy {

    /** The name of the local's client listener. */
    public static final String LISTENER = "mixed";

    private static final Logger log = LoggerFactory.getLogger(LocalProxy.class);

    private final InetSocketAddress configured;
    private final List<EventLoop> loops;
    private final ConnectionLimits limits;
    private final GatewayStats stats;
    private final Listener.ConnectionFactory clients;
    /** The gateway's listeners, shared with it: this class adds and removes the client listener. */
    private final List<Listener> listeners;
    private InetSocketAddress lastAddress;
    private boolean closed;

    public LocalProxy(InetSocketAddress configured, List<EventLoop> loops, ConnectionLimits limits,
                      GatewayStats stats, Listener.ConnectionFactory clients, List<Listener> listeners) {
        this.configured = configured;
        this.loops = loops;
        this.limits = limits;
        this.stats = stats;
        this.clients = clients;
        this.listeners = listeners;
    }

    /** Binds the client listener; {@link Listener#start()} is left to the caller, with the gateway's others. */
    public synchronized Listener bind() throws IOException {
        Listener mixed = new Listener(LISTENER, lastAddress != null ? lastAddress : configured, loops, limits, stats,
                clients);
        listeners.add(mixed);
        return mixed;
    }

    /** {@return whether the client listener is open} */
    public synchronized boolean running() {
        return listeners.stream().anyMatch(l -> l.name().equals(LISTENER));
    }

    /** Opens the client listener again, on the address it had. */
    public synchronized void start() throws IOException {
        if (closed || running()) {
            return;
        }
        Listener mixed = bind();
        try {
            mixed.start();
        } catch (IOException e) {
            listeners.remove(mixed);
            mixed.close();
            throw e;
        }
        log.info("local proxy listener opened on {}", HostPort.of(mixed.address()));
    }

    /** Closes the client listener; tunnels already open go on. */
    public synchronized void stop() {
        for (Listener listener : listeners) {
            if (listener.name().equals(LISTENER)) {
                lastAddress = listener.address();
                listener.close();
                listeners.remove(listener);
                log.info("local proxy listener closed");
            }
        }
    }

    /** The gateway stops: the listener never opens again. */
    public synchronized void close() {
        closed = true;
    }
}
