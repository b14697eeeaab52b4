package io.relaygate.core.net;

import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.stats.GatewayStats;
import io.relaygate.core.reactor.IoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening socket that serves client protocols: it accepts on one loop and hands each connection to the next
 * loop in turn. When accept fails for lack of file descriptors it stops accepting for a while instead of spinning.
 */
public final class Listener implements IoHandler {

    private static final Logger log = LoggerFactory.getLogger(Listener.class);

    private static final int BACKLOG = 1024;
    private static final int MAX_ACCEPTS_PER_EVENT = 64;
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String name;
    private final EventLoop acceptLoop;
    private final List<EventLoop> loops;
    private final ConnectionLimits limits;
    private final GatewayStats stats;
    private final ConnectionFactory factory;
    private final ServerSocketChannel server;
    private final InetSocketAddress address;
    private SelectionKey key;
    private int nextLoop;
    private long backoffNanos = MIN_BACKOFF_NANOS;

    /** Serves one accepted connection. */
    @FunctionalInterface
    public interface ConnectionFactory {
        /**
         * Starts serving {@code port}, registered with {@code loop} and interested in nothing yet. Called on that
         * loop; the connection owns the port and the permit from here, and must release both on every way out.
         */
        void start(EventLoop loop, SocketPort port, InetSocketAddress client, ConnectionLimits.Permit permit);
    }

    /**
     * Binds at once, so that a port in use fails the start before anything else opens.
     *
     * @throws IOException if the address cannot be bound
     */
    public Listener(String name, InetSocketAddress bindAddress, List<EventLoop> loops, ConnectionLimits limits,
                    GatewayStats stats, ConnectionFactory factory) throws IOException {
        this.name = name;
        this.loops = loops;
        this.acceptLoop = loops.get(0);
        this.limits = limits;
        this.stats = stats;
        this.factory = factory;
        this.server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(bindAddress, BACKLOG);
            server.configureBlocking(false);
            this.address = (InetSocketAddress) server.getLocalAddress();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /** {@return the listener's name, e.g. {@code mixed}} */
    public String name() {
        return name;
    }

    /** {@return the bound address, with the port the OS chose for port 0} */
    public InetSocketAddress address() {
        return address;
    }

    /** Starts accepting. Thread-safe; returns once the acceptor is registered. */
    public void start() throws IOException {
        CompletableFuture<Void> registered = new CompletableFuture<>();
        acceptLoop.execute(() -> {
            try {
                key = acceptLoop.register(server, SelectionKey.OP_ACCEPT, this);
                registered.complete(null);
            } catch (IOException | RuntimeException e) {
                registered.completeExceptionally(e);
            }
        });
        try {
            registered.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException("cannot register " + name + " listener", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IOException("cannot register " + name + " listener", e);
        }
    }

    /**
     * Starts accepting without waiting for the loop: for callers that must not wait on it (they hold a lock the loop
     * may take). A failure to register is logged and leaves the listener closed. Thread-safe.
     */
    public void startLater() {
        acceptLoop.execute(() -> {
            try {
                if (server.isOpen()) {
                    key = acceptLoop.register(server, SelectionKey.OP_ACCEPT, this);
                }
            } catch (IOException | RuntimeException e) {
                log.warn("cannot register the {} listener", name, e);
                try {
                    server.close();
                } catch (IOException ignored) {
                    log.debug("closing the {} listener", name, ignored);
                }
            }
        });
    }

    /** Stops accepting and closes the socket, so new connections are refused at once. Thread-safe; idempotent. */
    public void close() {
        // A channel still registered with a selector keeps its port until the selector drops the cancelled key, so
        // the close runs on the loop, which drops the key at once; callers on other threads wait for it, so that a
        // stopped listener refuses connections as soon as close() returns.
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Runnable closeNow = () -> {
            try {
                server.close();
                acceptLoop.flushCancelledKeys();
            } catch (IOException e) {
                log.debug("closing the {} listener", name, e);
            }
            closed.complete(null);
        };
        if (acceptLoop.inLoop()) {
            closeNow.run();
            return;
        }
        acceptLoop.execute(closeNow);
        try {
            closed.get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // The loop has stopped: closing here is all there is to do; its selector is closed with it.
            try {
                server.close();
            } catch (IOException ignored) {
                log.debug("closing the {} listener", name, ignored);
            }
        }
    }

    @Override
    public void ready(SelectionKey key) {
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT; i++) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                backOff(e);
                return;
            }
            if (channel == null) {
                backoffNanos = MIN_BACKOFF_NANOS;
                return;
            }
            handOff(channel);
        }
    }

    private void handOff(SocketChannel channel) {
        InetSocketAddress client;
        ConnectionLimits.Permit permit = null;
        try {
            client = (InetSocketAddress) channel.getRemoteAddress();
            if (client == null) {   // reset before we looked
                Sockets.close(channel);
                return;
            }
            permit = limits.tryOpen(client.getAddress());
            if (permit == null) {
                stats.connectionRefused();
                Sockets.reset(channel);
                return;
            }
            Sockets.configure(channel);
        } catch (IOException e) {
            if (permit != null) {
                permit.release();
            }
            Sockets.close(channel);
            return;
        }
        EventLoop loop = loops.get(nextLoop);
        nextLoop = (nextLoop + 1) % loops.size();
        ConnectionLimits.Permit admitted = permit;
        loop.execute(() -> serve(loop, channel, client, admitted));
    }

    /** On the connection's loop: registers the socket and hands it to the factory, or gives everything back. */
    private void serve(EventLoop loop, SocketChannel channel, InetSocketAddress client,
                       ConnectionLimits.Permit permit) {
        SocketPort port;
        try {
            port = SocketPort.register(loop, channel);
        } catch (IOException | RuntimeException e) {
            Sockets.reset(channel);
            permit.release();
            return;
        }
        factory.start(loop, port, client, permit);
    }

    /** Out of file descriptors (EMFILE/ENFILE), most likely: pause accepting instead of spinning on the error. */
    private void backOff(IOException e) {
        if (!server.isOpen()) {
            return;
        }
        log.warn("{} listener: accept failed ({}); pausing accepts for {} ms", name, e.getMessage(),
                TimeUnit.NANOSECONDS.toMillis(backoffNanos));
        key.interestOps(0);
        acceptLoop.schedule(backoffNanos, () -> {
            if (key.isValid()) {
                key.interestOps(SelectionKey.OP_ACCEPT);
            }
        });
        backoffNanos = Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
    }

    @Override
    public void failed(Throwable cause) {
        if (!(cause instanceof Shutdown)) {
            log.warn("{} listener failed", name, cause);
        }
    }
}
