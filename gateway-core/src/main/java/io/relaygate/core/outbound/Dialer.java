package io.relaygate.core.outbound;

import io.relaygate.core.policy.LogText;
import io.relaygate.core.policy.DestinationPolicy;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.net.Sockets;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.reactor.Timer;
import io.relaygate.spi.Destination;
import io.relaygate.spi.Resolver;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Resolves a destination off the loop and connects to each of its addresses in turn, each attempt bounded by the
 * connect timeout, resolution bounded by the DNS timeout. Thread-safe; each dial is confined to its loop.
 */
public final class Dialer {

    /** Receives a dial's result on the dial's loop, exactly once unless the dial is cancelled first. */
    public interface Callback {
        /** The socket is connected, registered with the loop and interested in nothing yet. */
        void connected(SocketPort port);

        void failed(TunnelOutcome outcome, String reason);
    }

    private final Resolver resolver;
    private final Executor blocking;
    private volatile long dnsTimeoutNanos;
    private volatile long connectTimeoutNanos;
    private volatile DestinationPolicy policy;
    private volatile Set<InetSocketAddress> ownListeners = Set.of();
    private final RefusalLog refusals = new RefusalLog();

    /**
     * Says at INFO why a destination was refused, once per destination a minute: the client only sees a reply code,
     * and an operator trying the gateway out needs to learn about {@code --allow-destination} without the access
     * log. Thread-safe.
     */
    static final class RefusalLog {
        private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("io.relaygate.policy");
        private static final long MINUTE_NANOS = 60_000_000_000L;
        private static final int MAX_REMEMBERED = 10_000;
        private final java.util.concurrent.ConcurrentHashMap<String, Long> lastLogged =
                new java.util.concurrent.ConcurrentHashMap<>();

        void refused(Destination destination, String reason, boolean allowListHint) {
            long now = System.nanoTime();
            String key = destination.toString();
            boolean[] due = {false};
            if (lastLogged.size() >= MAX_REMEMBERED) {
                lastLogged.values().removeIf(t -> now - t >= MINUTE_NANOS);
                if (lastLogged.size() >= MAX_REMEMBERED) {
                    return;         // a flood of distinct destinations: the access log still has each
                }
            }
            lastLogged.compute(key, (k, last) -> {
                due[0] = last == null || now - last >= MINUTE_NANOS;
                return due[0] ? now : last;
            });
            if (due[0]) {
                log.info("destination {} refused: {}{} (at most one line per destination a minute)",
                        LogText.escape(key), reason, allowListHint ? "; to open it: --allow-destination=CIDR[:PORTS]"
                                : "");
            }
        }
    }

    public Dialer(Resolver resolver, Executor blocking, Duration dnsTimeout, Duration connectTimeout) {
        this(resolver, blocking, dnsTimeout, connectTimeout, DestinationPolicy.OPEN);
    }

    /** A dialer that checks every address against {@code policy} before dialling exactly that address. */
    public Dialer(Resolver resolver, Executor blocking, Duration dnsTimeout, Duration connectTimeout,
                  DestinationPolicy policy) {
        this.policy = policy;
        this.resolver = resolver;
        this.blocking = blocking;
        this.dnsTimeoutNanos = dnsTimeout.toNanos();
        this.connectTimeoutNanos = connectTimeout.toNanos();
    }

    /**
     * Changes the destination policy and the timeouts (a reload): dials that start from now on follow them, dials in
     * progress keep theirs.
     */
    public void reconfigure(DestinationPolicy destinations, Duration dnsTimeout, Duration connectTimeout) {
        this.policy = destinations;
        this.dnsTimeoutNanos = dnsTimeout.toNanos();
        this.connectTimeoutNanos = connectTimeout.toNanos();
    }

    /** Sets the gateway's own listening addresses, which are never dialled: a tunnel to itself would loop. */
    public void ownListeners(Set<InetSocketAddress> addresses) {
        this.ownListeners = Set.copyOf(addresses);
    }

    /**
     * Opens the far end of a UDP association on {@code loop}: a socket of its own whose datagrams go through this
     * dialer's resolver and destination policy. Loop only.
     */
    public DirectDatagrams datagrams(EventLoop loop, DatagramPath.Receiver receiver) throws java.io.IOException {
        return DirectDatagrams.open(loop, this, receiver);
    }

    Resolver resolver() {
        return resolver;
    }

    Executor blocking() {
        return blocking;
    }

    /** {@return why the policy refuses {@code target}, logging it as a tunnel's refusal would be; or null} */
    String refusal(Destination destination, InetSocketAddress target) {
        String refusal = policy.refusal(target, ownListeners);
        if (refusal != null) {
            refusals.refused(destination, refusal, policy != DestinationPolicy.OPEN);
        }
        return refusal;
    }

    /** Starts a dial on {@code loop}. Loop only. {@return a handle that cancels it} */
    public Dial dial(EventLoop loop, Destination destination, Callback callback) {
        Dial dial = new Dial(loop, destination, callback);
        dial.start();
        return dial;
    }

    /** One dial: resolution, then attempts. Confined to its loop. */
    public final class Dial implements IoHandler {
        private final EventLoop loop;
        private final Destination destination;
        private final Callback callback;
        private List<InetAddress> addresses;
        private int next;
        private SocketChannel attempt;
        private Timer timer;
        private boolean done;
        private TunnelOutcome lastOutcome = TunnelOutcome.HOST_UNREACHABLE;
        /** Why the policy refused the last address it refused, for the refusal log; null if none was. */
        private String policyRefusal;
        private String lastReason = "no address";

        Dial(EventLoop loop, Destination destination, Callback callback) {
            this.loop = loop;
            this.destination = destination;
            this.callback = callback;
        }

        void start() {
            if (!destination.isName()) {
                addresses = List.of(destination.address());
                connectNext();
                return;
            }
            timer = loop.schedule(dnsTimeoutNanos, () -> finish(TunnelOutcome.TIMED_OUT, "name resolution timed out"));
            boolean accepted = Offload.submit(blocking, loop, () -> {
                List<InetAddress> result = resolver.resolve(destination.host());
                if (result.isEmpty()) {
                    throw new UnknownHostException("no address");
                }
                return () -> resolved(result);
            }, e -> finish(e instanceof UnknownHostException ? TunnelOutcome.HOST_UNREACHABLE
                    : TunnelOutcome.GENERAL_FAILURE, e instanceof UnknownHostException ? "name did not resolve"
                    : "resolver failed: " + e));
            if (!accepted) {
                finish(TunnelOutcome.GENERAL_FAILURE, "resolver overloaded");
            }
        }

        private void resolved(List<InetAddress> result) {
            if (done) {
                return;
            }
            timer.cancel();
            // Any forbidden answer refuses the name: a name that resolves to a public and a private address is
            // how rebinding attacks start (RELIABILITY.md B6).
            for (InetAddress address : result) {
                String refusal = policy.refusal(new InetSocketAddress(address, destination.port()), ownListeners);
                if (refusal != null) {
                    refused(refusal);
                    finish(TunnelOutcome.NOT_ALLOWED, "destination not allowed: " + refusal);
                    return;
                }
            }
            addresses = result;
            connectNext();
        }

        private void connectNext() {
            while (!done && next < addresses.size()) {
                InetSocketAddress target = new InetSocketAddress(addresses.get(next++), destination.port());
                String refusal = policy.refusal(target, ownListeners);
                if (refusal != null) {
                    refused(refusal);
                    lastOutcome = TunnelOutcome.NOT_ALLOWED;
                    lastReason = "destination not allowed: " + refusal;
                    continue;
                }
                SocketChannel channel = null;
                try {
                    channel = SocketChannel.open();
                    Sockets.configure(channel);
                    if (channel.connect(target)) {
                        succeed(channel, loop.register(channel, 0, this));
                        return;
                    }
                    attempt = channel;
                    loop.register(channel, SelectionKey.OP_CONNECT, this);
                    timer = loop.schedule(connectTimeoutNanos, this::attemptTimedOut);
                    return;
                } catch (IOException | RuntimeException e) {
                    Sockets.close(channel);
                    record(e);
                }
            }
            if (!done) {
                finish(lastOutcome, lastReason);
            }
        }

        @Override
        public void ready(SelectionKey key) {
            if (done || !key.isConnectable()) {
                return;
            }
            SocketChannel channel = attempt;
            try {
                if (!channel.finishConnect()) {
                    return;
                }
            } catch (IOException e) {
                timer.cancel();
                attempt = null;
                Sockets.close(channel);
                record(e);
                connectNext();
                return;
            }
            timer.cancel();
            attempt = null;
            key.interestOps(0);
            succeed(channel, key);
        }

        @Override
        public void failed(Throwable cause) {
            cancel();
            callback.failed(TunnelOutcome.GENERAL_FAILURE, cause instanceof Shutdown ? "gateway stopping"
                    : "dial failed: " + cause);
        }

        private void attemptTimedOut() {
            Sockets.close(attempt);
            attempt = null;
            lastOutcome = TunnelOutcome.TIMED_OUT;
            lastReason = "connect timed out";
            connectNext();
        }

        private void succeed(SocketChannel channel, SelectionKey key) {
            done = true;
            callback.connected(SocketPort.of(channel, key));
        }

        private void finish(TunnelOutcome outcome, String reason) {
            if (done) {
                return;
            }
            done = true;
            if (policyRefusal != null && outcome == TunnelOutcome.NOT_ALLOWED) {
                refusals.refused(destination, policyRefusal, policy != DestinationPolicy.OPEN);
            }
            if (timer != null) {
                timer.cancel();
            }
            callback.failed(outcome, reason);
        }

        /** Abandons the dial without calling back; closes an attempt in progress. Loop only; idempotent. */
        public void cancel() {
            done = true;
            if (timer != null) {
                timer.cancel();
            }
            Sockets.close(attempt);
            attempt = null;
        }

        private void refused(String why) {
            policyRefusal = why;
        }

        private void record(Exception e) {
            lastOutcome = outcomeOf(e);
            lastReason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    /** Maps a connect failure to the outcome table of DESIGN.md. */
    static TunnelOutcome outcomeOf(Exception e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        if (e instanceof NoRouteToHostException || message.contains("no route to host")
                || message.contains("host is unreachable")) {
            return TunnelOutcome.HOST_UNREACHABLE;
        }
        if (message.contains("network is unreachable")) {
            return TunnelOutcome.NETWORK_UNREACHABLE;
        }
        if (message.contains("timed out")) {
            return TunnelOutcome.TIMED_OUT;
        }
        if (e instanceof ConnectException || message.contains("refused")) {
            return TunnelOutcome.CONNECTION_REFUSED;
        }
        if (e instanceof SocketException) {
            return TunnelOutcome.HOST_UNREACHABLE;
        }
        return TunnelOutcome.GENERAL_FAILURE;
    }
}
