package io.relaygate.core.link;

import io.relaygate.core.accounts.Allowances;
import io.relaygate.core.accounts.UserSessions;
import io.relaygate.core.net.Port;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.outbound.Dialer;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.LogBudget;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.relay.Relay;
import io.relaygate.core.relay.RelayServices;
import io.relaygate.core.relay.TunnelRecord;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated link on the remote, owner of its {@link LinkSession}: registered under its user (capped per user,
 * closed when the user is revoked, drained when the gateway stops), and the acceptor of the streams the local opens:
 * the destination policy and the dial, OPEN_RESULT, then a {@link Relay} between the stream and the destination.
 * Confined to its loop.
 */
final class RemoteLink implements LinkSession.Acceptor, LinkSession.CloseListener {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.link");
    /** A live local pings every 15 s; three missed pings mean the local is gone (F7). */
    private static final long SILENT_LINK_NANOS = 45_000_000_000L;
    /** As often as the local pings, and as long for the answer. */
    private static final long PING_NANOS = 15_000_000_000L;
    private static final long PONG_NANOS = 10_000_000_000L;

    private final EventLoop loop;
    private final LinkServices services;
    private final RelayServices relay;
    private final UserSessions sessions;
    private final InetSocketAddress client;
    private final ConnectionLimits.Permit permit;
    private final String user;
    /** The dials of streams not answered yet, by stream: each abandons its dial and gives back its admission. */
    private final Map<Integer, Runnable> dials = new HashMap<>();
    private LinkSession session;
    /** Whether this link sits in the user's registry, which every way out must undo. */
    private boolean registered;
    /** Set once the link has ended, for the reverse ports deciding on another thread. */
    private volatile boolean gone;
    /** Registrations sent to the reverse ports and not answered yet, queued ones included; loop only. */
    int pendingRegistrations;
    /** Whether one of this link's registrations is being decided; the others wait in order. Loop only. */
    boolean deciding;
    /** Registrations waiting for the one being decided. Loop only. */
    final java.util.ArrayDeque<LinkMessages.Register> queuedRegistrations = new java.util.ArrayDeque<>();

    RemoteLink(EventLoop loop, LinkServices services, InetSocketAddress client, ConnectionLimits.Permit permit,
               String user) {
        this.loop = loop;
        this.services = services;
        this.relay = services.relay();
        this.sessions = relay.sessions();
        this.client = client;
        this.permit = permit;
        this.user = user;
    }

    /** Takes over the authenticated connection. Loop only. */
    void start(Port port, ByteBuffer unsent, ByteBuffer leftover, long lookedUpAt) {
        long idleLink = services.timeouts().idleLink().toNanos();
        long handshake = services.timeouts().handshake().toNanos();
        // The remote pings too: a local behind NAT whose path died is found within a ping and its answer's
        // deadline, and its exposed ports stop listening then, rather than after the silence rule alone.
        session = new LinkSession(loop, port, relay.pool(), new LinkSession.Settings(false, PING_NANOS, PONG_NANOS,
                SILENT_LINK_NANOS, idleLink, handshake, services.maxStreamsPerLink(), services.streamWindows()),
                services.maxStreamsPerLink(), leftover, this, this);
        session.start(unsent);
        if (session.isClosed()) {
            return;
        }
        int max = services.limits().maxLinksPerUser();
        UserSessions.Registration registration = sessions.registerLink(user, this, loop,
                () -> session.close("user revoked"), () -> session.goAway("the remote gateway is stopping"), max,
                lookedUpAt);
        registered = registration == UserSessions.Registration.REGISTERED;
        if (registration == UserSessions.Registration.REVOKED) {
            // Disabled or deleted while this login was checked: the account it proved is not the account now.
            session.closeWithError(Frames.ERROR_AUTHENTICATION, "user revoked");
        } else if (!registered) {
            // One user's links are capped, so that they cannot fill the gateway's connection cap for everyone else.
            relay.stats().handshakeFailed("link: too many links");
            long dropped = services.damper().logAllowance();
            if (dropped >= 0) {
                log.info("link from {}: user {} already holds {} links, this one closed{}",
                        LogText.address(client), LogText.escape(user), max, LogBudget.note(dropped));
            }
            session.closeWithError(Frames.ERROR_OVERLOADED, "too many links for this user (at most " + max + ")");
        }
    }

    EventLoop loop() {
        return loop;
    }

    LinkSession session() {
        return session;
    }

    String user() {
        return user;
    }

    boolean isGone() {
        return gone;
    }

    /** Sends the answer to a registration, unless the link has ended meanwhile. Loop only. */
    void answer(LinkMessages.RegisterResult result) {
        if (!gone && session != null) {
            session.sendRegistration(Frames.REGISTER_RESULT, LinkMessages.registerResult(result));
        }
    }

    @Override
    public void registration(LinkSession link, int type, ByteBuffer payload) throws LinkProtocolException {
        if (type != Frames.REGISTER) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame type " + type + " from a local");
        }
        LinkMessages.Register request = LinkMessages.register(payload);
        if (services.reverse() == null) {
            answer(new LinkMessages.RegisterResult(request.name(), LinkMessages.RegisterOutcome.REVERSE_OFF, 0));
            return;
        }
        services.reverse().register(this, request);
    }

    /** A link that holds public ports is the local's way in for their visitors: it is in use while they wait. */
    @Override
    public boolean inUseWithoutStreams(LinkSession link) {
        return services.reverse() != null && services.reverse().listensFor(this);
    }

    @Override
    public void open(LinkSession link, int stream, LinkMessages.Open request) {
        if (request.service() != null) {
            link.refuse(stream, TunnelOutcome.NOT_ALLOWED);     // a local opens streams to destinations only
            return;
        }
        if (request.datagrams()) {
            TunnelRecord record = new TunnelRecord(client, null, System.nanoTime());
            record.protocol("link-udp");
            record.user(user);
            record.destination("udp");
            Allowances.Admission overLimit = relay.admit(record);
            if (overLimit != null) {
                relay.stats().tunnelFailed(overLimit.refusal().name());
                link.refuse(stream, overLimit.refusal());
                return;
            }
            String refusal = services.associations().take(user, client.getAddress());
            if (refusal != null) {
                record.releaseAdmission();
                relay.stats().tunnelFailed(TunnelOutcome.NOT_ALLOWED.name());
                link.refuse(stream, TunnelOutcome.NOT_ALLOWED);
                return;
            }
            RemoteDatagrams.accept(loop, link, stream, services.dialer(), relay, record, services.associations());
            return;
        }
        Destination destination = request.destination();
        TunnelRecord record = new TunnelRecord(client, null, System.nanoTime());
        record.protocol("link");
        record.user(user);
        record.destination(destination.toString());
        Allowances.Admission overLimit = relay.admit(record);
        if (overLimit != null) {
            relay.stats().tunnelFailed(overLimit.refusal().name());
            record.failed(overLimit.refusal().name());
            relay.accessLog(record);
            link.refuse(stream, overLimit.refusal());
            return;
        }
        boolean[] answered = {false};
        Dialer.Dial dial = services.dialer().dial(loop, destination, new Dialer.Callback() {
            @Override
            public void connected(SocketPort upstream) {
                answered[0] = true;
                dials.remove(stream);
                InetSocketAddress bound = upstream.localAddress();
                if (bound == null) {
                    upstream.close();
                    failed(TunnelOutcome.GENERAL_FAILURE, "the socket has no local address");
                    return;
                }
                LinkStream linkStream = link.accept(stream, bound);
                if (linkStream == null) {
                    upstream.close();       // the link went away while the destination answered
                    record.releaseAdmission();
                    return;
                }
                new Relay(loop, relay, record, linkStream, upstream, null, null).start();
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason) {
                answered[0] = true;
                dials.remove(stream);
                record.releaseAdmission();
                relay.stats().tunnelFailed(outcome.name());
                relay.debug("{}: open failed: {}", record, reason);
                record.failed(outcome.name());
                relay.accessLog(record);
                link.refuse(stream, outcome);
            }
        });
        if (!answered[0]) {
            dials.put(stream, () -> {
                dial.cancel();
                record.releaseAdmission();
            });
        }
    }

    @Override
    public void closed(LinkSession link, String reason) {
        gone = true;
        if (services.reverse() != null) {
            services.reverse().linkClosed(this);
        }
        if (registered) {
            registered = false;
            sessions.unregister(user, this);
        }
        for (Runnable abandon : List.copyOf(dials.values())) {
            abandon.run();
        }
        dials.clear();
        permit.release();
        relay.debug("link from {} closed: {}", LogText.address(client), reason);
    }
}
