package io.relaygate.core.link;

import io.relaygate.core.net.HandshakeConnection;
import io.relaygate.core.net.Port;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.net.TlsPort;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Offload;
import io.relaygate.core.wire.FrameReader;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.core.wire.ScramClient;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.cert.CertificateException;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The local's side of a link's handshake: the preamble and CLIENT_HELLO, the proof (the key derivation off the
 * loop), the remote's signature checked in SERVER_OUTCOME; then the port goes to a {@link LinkSession}. Confined to
 * its loop.
 */
final class LinkClientHandshake extends HandshakeConnection {

    /** The handshake's end, exactly once unless cancelled. Called on the loop. */
    interface Outcome {
        /**
         * @param unsent   output not yet written, or null
         * @param leftover   bytes read past SERVER_OUTCOME (read mode)
         * @param maxStreams the streams the remote lets this link hold open at once
         */
        void authenticated(Port port, ByteBuffer unsent, ByteBuffer leftover, int maxStreams);

        /** @param refusal why the remote cannot be used until the settings change, or {@code NONE} */
        void failed(TunnelOutcome outcome, String reason, Refusal refusal);
    }

    /** A failure no retry will mend: the remote refused our credentials, or it is not the remote we trust. */
    enum Refusal { NONE, CREDENTIALS, CERTIFICATE }

    private enum Step { CHALLENGE, PROVING, OUTCOME }

    private final ScramClient scram;
    private final Executor blocking;
    private final Outcome outcome;
    private final FrameReader reader = new FrameReader();
    private final ByteBuffer in = ByteBuffer.allocate(Frames.CONTROL_BUFFER_BYTES);
    private Step step = Step.CHALLENGE;
    private boolean reported;

    LinkClientHandshake(EventLoop loop, Port port, ScramClient scram, Executor blocking, Outcome outcome) {
        super(loop, port, null);
        this.scram = scram;
        this.blocking = blocking;
        this.outcome = outcome;
    }

    @Override
    protected void started() {
        ByteBuffer hello = Frames.frame(Frames.CLIENT_HELLO, 0, scram.hello());
        write(ByteBuffer.allocate(Frames.PREAMBLE_BYTES + hello.remaining()).put(Frames.preamble()).put(hello)
                .flip());
    }

    @Override
    protected void onReadable() throws IOException {
        int n = port.read(in);
        if (n < 0) {
            failWith(TunnelOutcome.GENERAL_FAILURE, "the remote gateway closed the link", Refusal.NONE);
            return;
        }
        in.flip();
        try {
            while (isOpen() && step != Step.PROVING && reader.header(in)) {
                ByteBuffer payload = reader.frame(in);
                if (payload == null) {
                    break;
                }
                frame(reader.type(), payload);
            }
        } catch (LinkProtocolException e) {
            failWith(TunnelOutcome.GENERAL_FAILURE, "link protocol: " + e.getMessage(), Refusal.NONE);
        } finally {
            if (isOpen()) {
                in.compact();
            }
        }
    }

    private void frame(int type, ByteBuffer payload) throws LinkProtocolException {
        if (type == Frames.ERROR) {
            int code = payload.remaining() >= 2 ? payload.getShort() & 0xFFFF : 0;
            boolean refused = code == Frames.ERROR_AUTHENTICATION;
            failWith(refused ? TunnelOutcome.LINK_AUTH_FAILED : TunnelOutcome.GENERAL_FAILURE,
                    "the remote gateway sent ERROR " + code, refused ? Refusal.CREDENTIALS : Refusal.NONE);
            return;
        }
        int expected = step == Step.CHALLENGE ? Frames.SERVER_CHALLENGE : Frames.SERVER_OUTCOME;
        if (type != expected) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "expected frame " + expected + ", got " + type);
        }
        if (step == Step.CHALLENGE) {
            challenge(payload);
        } else {
            outcome(payload);
        }
    }

    private void challenge(ByteBuffer payload) {
        byte[] challenge = new byte[payload.remaining()];
        payload.get(challenge);
        byte[] channelBinding;
        try {
            // The certificate this side saw: a man in the middle's would not match the remote's own.
            channelBinding = port instanceof TlsPort tls ? LinkTls.clientEndPoint(tls.session()) : null;
        } catch (SSLPeerUnverifiedException e) {
            failWith(TunnelOutcome.GENERAL_FAILURE, "the remote's certificate is not known", Refusal.NONE);
            return;
        }
        step = Step.PROVING;
        reading(false);
        // The first link derives the key (PBKDF2): never on the loop.
        boolean accepted = Offload.submit(blocking, loop, () -> {
            byte[] proof = scram.proof(ByteBuffer.wrap(challenge), channelBinding);
            return () -> {
                if (isOpen()) {
                    step = Step.OUTCOME;
                    write(Frames.frame(Frames.CLIENT_PROOF, 0, proof));
                    reading(true);
                }
            };
        }, e -> failWith(TunnelOutcome.GENERAL_FAILURE, e.getMessage(), Refusal.NONE));
        if (!accepted) {
            failWith(TunnelOutcome.GENERAL_FAILURE, "overloaded", Refusal.NONE);
        }
    }

    private void outcome(ByteBuffer payload) {
        if (!scram.accepted(payload)) {
            failWith(TunnelOutcome.LINK_AUTH_FAILED, "the remote gateway refused the link credentials",
                    Refusal.CREDENTIALS);
            return;
        }
        if (payload.remaining() != 4 || payload.getInt(payload.position()) <= 0) {
            failWith(TunnelOutcome.GENERAL_FAILURE, "the remote gateway sent a malformed SERVER_OUTCOME",
                    Refusal.NONE);
            return;
        }
        int maxStreams = payload.getInt();
        reported = true;
        ByteBuffer unsent = handOver();
        outcome.authenticated(port, unsent, in, maxStreams);
    }

    /** Abandons the handshake without a report. Loop only; idempotent. */
    void cancel() {
        reported = true;
        close("cancelled");
    }

    @Override
    protected void deadlinePassed() {
        failWith(TunnelOutcome.GENERAL_FAILURE, "the remote gateway did not complete the link handshake in time",
                Refusal.NONE);
    }

    @Override
    protected void onFailure(Throwable cause) {
        CertificateException refused = cause instanceof SSLHandshakeException ? certificateRefusal(cause) : null;
        if (refused != null) {
            // Not the remote we were told to trust: as final as refused credentials, and as loud.
            failWith(TunnelOutcome.LINK_AUTH_FAILED, refused.getMessage(), Refusal.CERTIFICATE);
            return;
        }
        failWith(TunnelOutcome.GENERAL_FAILURE, cause instanceof Shutdown ? "gateway stopping"
                : "link failed: " + cause.getMessage(), Refusal.NONE);
    }

    private static CertificateException certificateRefusal(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof CertificateException refusal) {
                return refusal;
            }
        }
        return null;
    }

    private void failWith(TunnelOutcome result, String reason, Refusal refused) {
        if (!reported) {
            reported = true;
            outcome.failed(result, reason, refused);
        }
        close(reason);
    }

    @Override
    protected void closed(String reason, boolean broken) {
        if (!reported) {
            reported = true;
            outcome.failed(TunnelOutcome.GENERAL_FAILURE, reason, Refusal.NONE);
        }
    }
}
