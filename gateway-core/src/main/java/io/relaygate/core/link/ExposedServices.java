package io.relaygate.core.link;

import io.relaygate.core.config.ReverseConfig;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.Relay;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.core.wire.LinkMessages.RegisterOutcome;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.core.wire.ProxyHeader;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local's side of the reverse tunnel: the services it exposes, registered with the remote on one of its links
 * (the first to come up; another when that one ends), and the acceptor of the streams the remote opens for their
 * visitors. A visitor's stream connects only to the target its service names, never to an address the remote sends.
 * A registration the remote refuses for a reason that can change (pool full, port taken, name still held by a link
 * that is ending) is asked again with backoff and jitter; other refusals are logged once and shown in the console.
 * <p>
 * Thread-safe: links on every loop share it; each link's frames are handled on that link's loop.
 */
public final class ExposedServices implements LinkSession.Acceptor {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.reverse");
    private static final long FIRST_RETRY_NANOS = 1_000_000_000L;
    private static final long LAST_RETRY_NANOS = 60_000_000_000L;

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final String remoteHost;
    private final Dialer dialer;
    private final RelayServices relay;
    /** The link the services are registered on, with its loop; null while none is. */
    private final AtomicReference<LinkSession> registrar = new AtomicReference<>();
    private final Map<LinkSession, EventLoop> live = new ConcurrentHashMap<>();

    /**
     * What {@code GET /api/tunnels} shows of one exposed service on the local.
     *
     * @param state      {@code registering}, {@code exposed}, {@code refused} or {@code away}
     * @param publicPort the remote's port while exposed, else 0
     * @param reason     why it is not exposed, or null
     */
    public record Snapshot(String name, String target, int publicPort, String state, String reason, int visitors,
                           long visits, long bytesUp, long bytesDown) {
    }

    private static final class Entry {
        final ReverseConfig.Exposed config;
        volatile String state = "away";
        volatile int port;
        volatile String reason = "no link to the remote yet";
        RegisterOutcome lastLogged;
        long backoffNanos = FIRST_RETRY_NANOS;
        final AtomicInteger visitors = new AtomicInteger();
        final AtomicLong visits = new AtomicLong();
        final LongAdder bytesUp = new LongAdder();
        final LongAdder bytesDown = new LongAdder();

        Entry(ReverseConfig.Exposed config) {
            this.config = config;
        }
    }

    /**
     * @param exposed    the services, as configured
     * @param remoteHost the remote's host, for the log line that says where a service is exposed
     * @param dialer     connects to the services' targets
     * @param relay      what the visitors' relays share
     */
    public ExposedServices(List<ReverseConfig.Exposed> exposed, String remoteHost, Dialer dialer,
                           RelayServices relay) {
        exposed.forEach(e -> entries.put(e.name(), new Entry(e)));
        this.remoteHost = remoteHost;
        this.dialer = dialer;
        this.relay = relay;
    }

    /** A link of this local is authenticated: the services are registered on it unless another link has them. */
    void linkUp(LinkSession session, EventLoop loop) {
        live.put(session, loop);
        if (registrar.compareAndSet(null, session)) {
            loop.execute(() -> registerAll(session, loop));
        }
    }

    /** A link ended or is going away: if it held the registrations, another live link takes them. Any loop. */
    void linkDown(LinkSession session) {
        live.remove(session);
        if (!registrar.compareAndSet(session, null)) {
            return;
        }
        for (Entry entry : entries.values()) {
            entry.state = "away";
            entry.port = 0;
            entry.reason = "the link to the remote ended; registering again";
        }
        for (Map.Entry<LinkSession, EventLoop> other : live.entrySet()) {
            LinkSession next = other.getKey();
            if (!next.isClosed() && !next.isDraining() && registrar.compareAndSet(null, next)) {
                other.getValue().execute(() -> registerAll(next, other.getValue()));
                return;
            }
        }
    }

    private void registerAll(LinkSession session, EventLoop loop) {
        for (Entry entry : entries.values()) {
            entry.backoffNanos = FIRST_RETRY_NANOS;
            register(session, loop, entry);
        }
    }

    private void register(LinkSession session, EventLoop loop, Entry entry) {
        if (registrar.get() != session || session.isClosed()) {
            return;
        }
        entry.state = "registering";
        ReverseConfig.Exposed service = entry.config;
        List<LinkMessages.Block> allowFrom = service.allowFrom().stream()
                .map(rule -> new LinkMessages.Block(rule.network(), rule.prefix())).toList();
        session.sendRegistration(Frames.REGISTER, LinkMessages.register(new LinkMessages.Register(service.name(),
                service.remotePort(), service.maxVisitors(), allowFrom)));
    }

    @Override
    public void registration(LinkSession session, int type, ByteBuffer payload) throws LinkProtocolException {
        if (type != Frames.REGISTER_RESULT) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame type " + type + " from a remote");
        }
        LinkMessages.RegisterResult result = LinkMessages.registerResult(payload);
        Entry entry = entries.get(result.name());
        if (entry == null) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "REGISTER_RESULT for " + result.name()
                    + ", which this local did not register");
        }
        EventLoop loop = live.get(session);
        if (result.outcome() == RegisterOutcome.GRANTED) {
            entry.state = "exposed";
            entry.port = result.port();
            entry.reason = null;
            entry.lastLogged = null;
            entry.backoffNanos = FIRST_RETRY_NANOS;
            log.info("exposed {} {} at {}:{}", entry.config.name(), entry.config.target(), remoteHost,
                    result.port());
            return;
        }
        entry.state = "refused";
        entry.port = 0;
        entry.reason = result.outcome().reason();
        if (entry.lastLogged != result.outcome()) {
            entry.lastLogged = result.outcome();
            log.warn("exposing {} refused by the remote: {}{}", entry.config.name(), result.outcome().reason(),
                    result.outcome().retry() ? "; trying again" : "");
        }
        if (result.outcome().retry() && loop != null) {
            long delay = entry.backoffNanos / 2 + ThreadLocalRandom.current().nextLong(entry.backoffNanos / 2 + 1);
            entry.backoffNanos = Math.min(LAST_RETRY_NANOS, entry.backoffNanos * 2);
            loop.schedule(delay, () -> register(session, loop, entry));
        }
    }

    /** {@return whether {@code service} is exposed now, so that a visitor's stream for it is accepted} */
    boolean exposes(String service) {
        Entry entry = service == null ? null : entries.get(service);
        return entry != null && "exposed".equals(entry.state);
    }

    @Override
    public void open(LinkSession session, int stream, LinkMessages.Open request) {
        Entry entry = request.service() == null ? null : entries.get(request.service());
        EventLoop loop = live.get(session);
        if (entry == null || !"exposed".equals(entry.state) || loop == null) {
            session.refuseUnexposed(stream);
            return;
        }
        ReverseConfig.Exposed service = entry.config;
        InetSocketAddress visitor = request.destination().address() == null ? null
                : new InetSocketAddress(request.destination().address(), request.destination().port());
        TunnelRecord record = new TunnelRecord(visitor, null, System.nanoTime());
        record.protocol("reverse");
        record.destination(service.name() + " " + service.target());
        dialer.dial(loop, Destination.parse(service.target().host(), service.target().port()),
                new Dialer.Callback() {
                    @Override
                    public void connected(SocketPort target) {
                        InetSocketAddress bound = target.localAddress();
                        LinkStream linkStream = bound == null ? null : session.accept(stream, bound);
                        if (linkStream == null) {
                            target.close();
                            if (bound == null) {
                                session.refuse(stream, TunnelOutcome.GENERAL_FAILURE);
                            }
                            return;
                        }
                        InetSocketAddress serviceAddress = target.remoteAddress();
                        ByteBuffer header = service.proxyProtocol() && visitor != null && serviceAddress != null
                                ? ByteBuffer.wrap(ProxyHeader.v2(visitor, serviceAddress)) : null;
                        entry.visitors.incrementAndGet();
                        entry.visits.incrementAndGet();
                        Relay visit = new Relay(loop, relay, record, linkStream, target, null, header);
                        visit.countInto(entry.bytesUp, entry.bytesDown);
                        visit.whenClosed(entry.visitors::decrementAndGet);
                        visit.start();
                    }

                    @Override
                    public void failed(TunnelOutcome outcome, String reason) {
                        log.debug("visitor {} of {}: {}", visitor == null ? "?" : LogText.address(visitor),
                                service.name(), reason);
                        session.refuse(stream, outcome);
                    }
                });
    }

    /** {@return every exposed service and its state, in configuration order} */
    public List<Snapshot> snapshot() {
        return entries.values().stream().map(e -> new Snapshot(e.config.name(), e.config.target().toString(),
                e.port, e.state, e.reason, e.visitors.get(), e.visits.get(), e.bytesUp.sum(), e.bytesDown.sum()))
                .toList();
    }
}
