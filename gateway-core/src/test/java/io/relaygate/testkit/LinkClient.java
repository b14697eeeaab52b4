package io.relaygate.testkit;

import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.core.wire.ScramClient;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * A blocking link client that speaks the link protocol byte by byte, for tests that play a local gateway (or an
 * attacker posing as one) against a remote: the preamble, a real or a forged login, and any frame. Every read has
 * a timeout.
 */
public final class LinkClient implements Closeable {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** One frame as read from the remote. */
    public record Frame(int type, int flags, int stream, byte[] payload) {
        /** {@return the ERROR frame's message} */
        public String errorMessage() {
            return new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private LinkClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code remote} from {@code source} (any address of 127.0.0.0/8 on Linux), or an OS choice. */
    public static LinkClient connect(InetSocketAddress remote, InetAddress source) throws IOException {
        Socket socket = new Socket();
        try {
            if (source != null) {
                socket.bind(new InetSocketAddress(source, 0));
            }
            socket.connect(remote, 5_000);
            return new LinkClient(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Connects, sends the preamble and logs in. {@return the client, authenticated} */
    public static LinkClient login(InetSocketAddress remote, String user, String password) throws IOException {
        LinkClient client = connect(remote, null);
        try {
            client.preamble();
            if (!client.authenticate(user, password.getBytes(StandardCharsets.UTF_8))) {
                throw new IOException("login refused");
            }
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** Sends the preamble. */
    public void preamble() throws IOException {
        write(Frames.preamble());
    }

    /** {@return whether SCRAM with this password succeeds, the remote proving itself too} */
    public boolean authenticate(String user, byte[] password) throws IOException {
        ScramClient scram = new ScramClient(user, password, RANDOM);
        send(Frames.CLIENT_HELLO, 0, scram.hello());
        Frame challenge = read();
        if (challenge.type() != Frames.SERVER_CHALLENGE) {
            return false;
        }
        try {
            send(Frames.CLIENT_PROOF, 0, scram.proof(ByteBuffer.wrap(challenge.payload())));
        } catch (LinkProtocolException e) {
            throw new IOException(e);
        }
        Frame outcome = read();
        return outcome.type() == Frames.SERVER_OUTCOME && scram.accepted(ByteBuffer.wrap(outcome.payload()));
    }

    /**
     * Plays the cheap attack: a hello for {@code user}, then a random proof (no key derivation).
     *
     * @return the remote's last frame: SERVER_OUTCOME (refused) or ERROR (e.g. damped)
     */
    public Frame forgeLogin(String user) throws IOException {
        preamble();
        send(Frames.CLIENT_HELLO, 0, new ScramClient(user, new byte[] {1}, RANDOM).hello());
        Frame challenge = read();
        if (challenge.type() != Frames.SERVER_CHALLENGE) {
            return challenge;
        }
        byte[] proof = new byte[32];
        RANDOM.nextBytes(proof);
        send(Frames.CLIENT_PROOF, 0, proof);
        return read();
    }

    /** Sends one frame. */
    public void send(int type, int stream, byte[] payload) throws IOException {
        write(Frames.frame(type, stream, payload));
    }

    /** Sends raw bytes. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * {@return the next frame but the remote's keepalive PINGs, which are answered as a local would}
     * @throws EOFException if the remote closed first
     */
    public Frame read() throws IOException {
        Frame frame = readAny();
        while (frame.type() == Frames.PING && frame.stream() == 0) {
            send(Frames.PONG, 0, frame.payload());
            frame = readAny();
        }
        return frame;
    }

    private Frame readAny() throws IOException {
        int length = in.readInt();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt();
        if (length < 0 || length > Frames.MAX_PAYLOAD) {
            throw new IOException("frame length " + length);
        }
        byte[] payload = new byte[length];
        in.readFully(payload);
        return new Frame(type, flags, stream, payload);
    }

    /** {@return whether the remote closed the connection (EOF or reset), reading and dropping frames until then} */
    public boolean awaitClosed() throws IOException {
        try {
            while (true) {
                read();
            }
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** {@return the socket, e.g. to close it half-way} */
    public Socket socket() {
        return socket;
    }

    private void write(ByteBuffer buffer) throws IOException {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
