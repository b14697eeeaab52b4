package io.relaygate.core.link;

import io.relaygate.core.net.HandshakeConnection;
import io.relaygate.core.net.Listener;
import io.relaygate.core.net.Port;
import io.relaygate.core.net.TlsPort;
import io.relaygate.core.policy.AuthDamper;
import io.relaygate.core.policy.ConnectionLimits;
import io.relaygate.core.policy.LogBudget;
import io.relaygate.core.policy.LogText;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.wire.FrameReader;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.core.wire.ScramServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote's side of a link's handshake: the preamble, CLIENT_HELLO (the account lookup off the loop, damping),
 * SERVER_CHALLENGE, CLIENT_PROOF, SERVER_OUTCOME; then the connection becomes a {@link LinkSession} owned by a
 * {@link RemoteLink}. Confined to its loop.
 */
public final class LinkServerHandshake extends HandshakeConnection {

    private static final Logger log = LoggerFactory.getLogger("io.relaygate.link");
    /** While the store is away every local retries its links: a few lines a minute say so, not one per attempt. */
    private static final LogBudget STORE_FAILURES = new LogBudget(6);
    /**
     * Free TLS buffers a side keeps for its links (about 84 KiB each, three at most per busy link): links at rest
     * hold none, and a burst of busy ones allocates what the pool lacks.
     */
    static final int TLS_BUFFERS_POOLED = 64;
    /** The failure reason of a refused link login; one bounded label for the metrics. */
    private static final String FAILED_LOGIN = "link: authentication failed";

    private enum Step { PREAMBLE, HELLO, CHALLENGING, PROOF }

    private final LinkServices services;
    private final ScramServer scram;
    private final InetSocketAddress client;
    private final FrameReader reader = new FrameReader();
    private final ByteBuffer in = ByteBuffer.allocate(Frames.CONTROL_BUFFER_BYTES);
    private Step step = Step.PREAMBLE;
    /** The revocation mark before the account lookup (written off the loop, read on it after the hand-back). */
    private volatile long lookedUpAt;

    private LinkServerHandshake(EventLoop loop, Port port, LinkServices services, InetSocketAddress client,
                                ConnectionLimits.Permit permit) {
        super(loop, port, permit);
        this.services = services;
        this.scram = services.scram().get();
        this.client = client;
    }

    /** {@return the listener's factory of link connections from local gateways} */
    public static Listener.ConnectionFactory factory(LinkServices services) {
        BufferPool records = services.tls() == null ? null
                : TlsPort.buffers(services.tls().engine(null, 0), TLS_BUFFERS_POOLED);
        return (loop, socket, client, permit) -> {
            long deadline = services.timeouts().handshake().toNanos();
            if (services.tls() == null) {
                new LinkServerHandshake(loop, socket, services, client, permit).start(deadline);
                return;
            }
            // TLS from byte 0: the link's handshake runs on the plaintext once TLS has completed, all within the
            // one deadline.
            TlsPort tls = new TlsPort(loop, socket, services.tls().engine(null, 0), services.blocking(), records);
            new LinkServerHandshake(loop, tls, services, client, permit).start(deadline);
            tls.start();
        };
    }

    @Override
    protected void onReadable() throws IOException {
        int n = port.read(in);
        if (n < 0) {
            close("the local closed the link");
            return;
        }
        in.flip();
        try {
            if (step == Step.PREAMBLE && !preamble()) {
                return;
            }
            while (isOpen() && step != Step.CHALLENGING && reader.header(in)) {
                ByteBuffer payload = reader.frame(in);
                if (payload == null) {
                    break;
                }
                if (step == Step.HELLO) {
                    require(reader.type(), Frames.CLIENT_HELLO);
                    hello(payload);
                } else {
                    require(reader.type(), Frames.CLIENT_PROOF);
                    proof(payload);
                    return;     // handed over, or closing
                }
            }
        } catch (LinkProtocolException e) {
            protocolError(e);
        } finally {
            if (isOpen()) {
                in.compact();
            }
        }
    }

    private boolean preamble() {
        if (in.remaining() < Frames.PREAMBLE_BYTES) {
            return false;
        }
        int magic = in.getInt();
        int version = in.get() & 0xFF;
        in.get();
        if (magic != Frames.MAGIC) {
            fail("not a link client");     // no reply to a stranger
            return false;
        }
        if (version != Frames.VERSION) {
            closeAfter(Frames.error(Frames.ERROR_UNSUPPORTED_VERSION, "this gateway speaks link version "
                    + Frames.VERSION));
            return false;
        }
        step = Step.HELLO;
        return true;
    }

    private static void require(int type, int expected) throws LinkProtocolException {
        if (type != expected) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "expected frame " + expected + ", got " + type);
        }
    }

    private void hello(ByteBuffer payload) {
        byte[] hello = new byte[payload.remaining()];
        payload.get(hello);
        step = Step.CHALLENGING;
        reading(false);
        AuthDamper damper = services.damper();
        if (damper.refuses(client.getAddress())) {
            refuseDamped();
            return;
        }
        // The account lookup is JDBC: off the loop.
        boolean accepted = Offload.submit(services.blocking(), loop, () -> {
            lookedUpAt = services.relay().sessions().revocationMark();
            byte[] challenge = scram.challenge(ByteBuffer.wrap(hello),
                    services.tls() == null ? null : services.tls().serverEndPoint());
            AuthDamper.Verdict verdict = damper.check(client.getAddress(), scram.user());
            return () -> {
                if (!isOpen()) {
                    return;
                }
                if (verdict == AuthDamper.Verdict.REFUSE) {
                    refuseDamped();
                } else if (verdict == AuthDamper.Verdict.DELAY) {
                    loop.schedule(AuthDamper.DELAY_NANOS, () -> challenge(challenge));
                } else {
                    challenge(challenge);
                }
            };
        }, e -> {
            if (e instanceof LinkProtocolException violation) {
                protocolError(violation);
            } else {
                long dropped = STORE_FAILURES.take();
                if (dropped >= 0) {
                    log.warn("link from {}: the account store failed: {}{}", LogText.address(client), e.toString(),
                            LogBudget.note(dropped));
                }
                closeAfter(Frames.error(Frames.ERROR_OVERLOADED, "account store unavailable"));
            }
        });
        if (!accepted) {
            closeAfter(Frames.error(Frames.ERROR_OVERLOADED, "overloaded"));
        }
    }

    private void challenge(byte[] challenge) {
        if (!isOpen()) {
            return;
        }
        step = Step.PROOF;
        write(Frames.frame(Frames.SERVER_CHALLENGE, 0, challenge));
        reading(true);
        if (in.position() > 0) {
            loop.execute(this::readBuffered);      // the proof may have come with the hello
        }
    }

    private void readBuffered() {
        try {
            if (isOpen()) {
                onReadable();
            }
        } catch (IOException e) {
            fail("read failed");
        }
    }

    private void proof(ByteBuffer payload) {
        AuthDamper damper = services.damper();
        byte[] outcome = scram.verify(payload);
        if (!scram.accepted()) {
            damper.failed(client.getAddress(), scram.user());
            services.relay().stats().handshakeFailed(FAILED_LOGIN);
            long dropped = damper.logAllowance();
            if (dropped >= 0) {
                log.info("link from {}: authentication failed for user {} ({}){}", LogText.address(client),
                        LogText.escape(scram.user()), scram.refusal(), LogBudget.note(dropped));
            }
            closeAfter(Frames.frame(Frames.SERVER_OUTCOME, 0, outcome));
            return;
        }
        damper.succeeded(client.getAddress(), scram.user());
        endHandshake();
        services.relay().allowances().loggedIn(scram.account());
        services.relay().debug("link from {}: authenticated as {}", LogText.address(client),
                LogText.escape(scram.user()));
        // Version 2 adds the streams this remote lets one link hold open at once.
        write(Frames.frame(Frames.SERVER_OUTCOME, 0, ByteBuffer.allocate(outcome.length + 4).put(outcome)
                .putInt(services.maxStreamsPerLink()).array()));
        ByteBuffer unsent = handOver();
        new RemoteLink(loop, services, client, permit(), scram.user()).start(port, unsent, in, lookedUpAt);
    }

    private void refuseDamped() {
        services.relay().stats().handshakeFailed("link: authentication damped");
        long dropped = services.damper().logAllowance();
        if (dropped >= 0) {
            log.info("link from {}: too many failed logins, refused without checking{}", LogText.address(client),
                    LogBudget.note(dropped));
        }
        closeAfter(Frames.error(Frames.ERROR_AUTHENTICATION, "too many failed logins; try again later"));
    }

    private void protocolError(LinkProtocolException e) {
        services.relay().debug("link from {}: protocol error: {}", LogText.address(client), e.getMessage());
        closeAfter(Frames.error(e.errorCode(), e.getMessage()));
    }

    @Override
    protected void closed(String reason, boolean broken) {
        services.relay().debug("link from {}: closed in its handshake: {}", LogText.address(client), reason);
    }
}
