package io.relaygate.testkit;

import io.relaygate.spi.AuthResult;
import io.relaygate.spi.Destination;
import io.relaygate.spi.Forwarder;
import io.relaygate.spi.HandshakeSession;
import io.relaygate.spi.ProtocolHandler;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * A {@link HandshakeSession} for unit tests of protocol handlers: it records what the handler does and, like the
 * gateway, keeps unconsumed bytes and offers them again with the next chunk.
 */
public final class RecordingSession implements HandshakeSession {

    private final boolean authRequired;
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private ProtocolHandler handler;
    private ByteBuffer pending = ByteBuffer.allocate(0);
    private boolean waiting;
    /** Set when the handler refused the client. */
    public String rejectReason;
    /** The final reply of a refusal, or null. */
    public byte[] rejectReply;
    /** The destination of {@link #openTunnel}, or null. */
    public Destination destination;
    /** The forwarder of {@link #forward}, or null. */
    public Forwarder forwarder;
    /** The credentials the handler asked to verify, or null. */
    public String user;
    public byte[] password;
    private Consumer<AuthResult> authCallback;

    public RecordingSession(boolean authRequired) {
        this.authRequired = authRequired;
    }

    public RecordingSession handler(ProtocolHandler handler) {
        this.handler = handler;
        return this;
    }

    /** Feeds bytes the way the gateway does: appended to what the handler left, unless it is waiting. */
    public RecordingSession feed(byte[] bytes) {
        ByteBuffer joined = ByteBuffer.allocate(pending.remaining() + bytes.length);
        joined.put(pending).put(bytes).flip();
        pending = joined;
        offer();
        return this;
    }

    private void offer() {
        if (!waiting && rejectReason == null && destination == null && forwarder == null && codec == null
                && pending.hasRemaining()) {
            handler.onBytes(pending);
        }
    }

    /** Completes a pending password verification, as the gateway would later on the loop. */
    public void completeAuth(AuthResult result) {
        if (authCallback == null) {
            throw new IllegalStateException("no verification pending");
        }
        Consumer<AuthResult> callback = authCallback;
        authCallback = null;
        waiting = false;
        callback.accept(result);
        offer();
    }

    /** {@return the bytes the handler left unconsumed: the early data once a tunnel is requested} */
    public byte[] unconsumed() {
        byte[] rest = new byte[pending.remaining()];
        pending.duplicate().get(rest);
        return rest;
    }

    /** {@return everything the handler sent with {@link #send}} */
    public byte[] sent() {
        return sent.toByteArray();
    }

    public String rejectReplyText() {
        return rejectReply == null ? null : new String(rejectReply, StandardCharsets.ISO_8859_1);
    }

    public boolean isWaitingForAuth() {
        return authCallback != null;
    }

    @Override
    public InetSocketAddress client() {
        return new InetSocketAddress("127.0.0.1", 40000);
    }

    @Override
    public boolean authenticationRequired() {
        return authRequired;
    }

    @Override
    public void send(ByteBuffer bytes) {
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        sent.writeBytes(copy);
    }

    @Override
    public void verifyPassword(String user, byte[] password, Consumer<AuthResult> result) {
        this.user = user;
        this.password = password.clone();
        this.authCallback = result;
        this.waiting = true;
    }

    @Override
    public void openTunnel(Destination destination) {
        if (this.destination != null) {
            throw new IllegalStateException("openTunnel called twice");
        }
        this.destination = destination;
    }

    /** The codec of {@link #associate}, or null. */
    public io.relaygate.spi.DatagramCodec codec;
    /** The client endpoint of {@link #associate}, or null. */
    public InetSocketAddress udpClient;

    @Override
    public void associate(InetSocketAddress clientEndpoint, io.relaygate.spi.DatagramCodec codec) {
        if (this.destination != null || this.forwarder != null || this.codec != null) {
            throw new IllegalStateException("the handshake has already ended");
        }
        this.udpClient = clientEndpoint;
        this.codec = codec;
    }

    @Override
    public void forward(Forwarder forwarder) {
        if (this.destination != null || this.forwarder != null) {
            throw new IllegalStateException("the handshake has already ended");
        }
        this.forwarder = forwarder;
    }

    @Override
    public void reject(String reason, ByteBuffer finalReply) {
        if (rejectReason != null) {
            throw new IllegalStateException("reject called twice");
        }
        rejectReason = reason;
        if (finalReply != null) {
            rejectReply = new byte[finalReply.remaining()];
            finalReply.get(rejectReply);
        }
    }

    /** {@return every way to cut {@code bytes} into two chunks, plus one chunk per byte} */
    public static java.util.List<byte[][]> splits(byte[] bytes) {
        java.util.List<byte[][]> result = new java.util.ArrayList<>();
        for (int cut = 1; cut < bytes.length; cut++) {
            result.add(new byte[][] {java.util.Arrays.copyOfRange(bytes, 0, cut),
                java.util.Arrays.copyOfRange(bytes, cut, bytes.length)});
        }
        byte[][] single = new byte[bytes.length][];
        for (int i = 0; i < bytes.length; i++) {
            single[i] = new byte[] {bytes[i]};
        }
        result.add(single);
        return result;
    }
}
