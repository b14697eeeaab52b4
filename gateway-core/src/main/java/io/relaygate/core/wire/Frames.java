package io.relaygate.core.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Constants and encoders of the link's preamble and frames (docs/link-protocol.md). */
public final class Frames {

    /** The link's magic, {@code RGLK}. */
    public static final int MAGIC = 0x52474C4B;
    /** The version this gateway speaks. */
    public static final int VERSION = 2;
    public static final int PREAMBLE_BYTES = 6;
    public static final int HEADER_BYTES = 10;
    /** The largest payload; a frame announcing more closes the link before anything is allocated. */
    public static final int MAX_PAYLOAD = 65_536;
    /**
     * The largest payload of any frame but DATA: the handshake messages and OPEN are a few hundred bytes, and a
     * bound this small lets every frame but DATA be read whole from a connection's input buffer.
     */
    public static final int MAX_CONTROL_PAYLOAD = 4096;
    /** An input buffer that always holds a whole control frame. */
    public static final int CONTROL_BUFFER_BYTES = HEADER_BYTES + MAX_CONTROL_PAYLOAD;

    public static final int CLIENT_HELLO = 0x01;
    public static final int SERVER_CHALLENGE = 0x02;
    public static final int CLIENT_PROOF = 0x03;
    public static final int SERVER_OUTCOME = 0x04;
    public static final int OPEN = 0x10;
    public static final int OPEN_RESULT = 0x11;
    public static final int DATA = 0x12;
    public static final int FIN = 0x13;
    public static final int RST = 0x14;
    public static final int WINDOW = 0x15;
    public static final int PING = 0x16;
    public static final int PONG = 0x17;
    public static final int ERROR = 0x18;
    public static final int GOAWAY = 0x19;
    /** Local to remote, stream 0: expose a service on a public port (the reverse tunnel). */
    public static final int REGISTER = 0x1A;
    /** Remote to local, stream 0: the public port granted to a service, a refusal, or its end. */
    public static final int REGISTER_RESULT = 0x1B;

    public static final int ERROR_UNSUPPORTED_VERSION = 1;
    public static final int ERROR_PROTOCOL = 2;
    public static final int ERROR_AUTHENTICATION = 3;
    public static final int ERROR_OVERLOADED = 4;
    public static final int ERROR_SHUTTING_DOWN = 5;

    private Frames() {
    }

    /** {@return whether {@code type} is a frame type of version 2} */
    static boolean isKnownType(int type) {
        return (type >= CLIENT_HELLO && type <= SERVER_OUTCOME) || (type >= OPEN && type <= REGISTER_RESULT);
    }

    /** {@return the preamble a local sends first} */
    public static ByteBuffer preamble() {
        return ByteBuffer.allocate(PREAMBLE_BYTES).putInt(MAGIC).put((byte) VERSION).put((byte) 0).flip();
    }

    /** {@return one frame, header and payload, ready to write} */
    public static ByteBuffer frame(int type, int stream, byte[] payload) {
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload: " + payload.length + " bytes (expected: <= " + MAX_PAYLOAD
                    + ")");
        }
        return ByteBuffer.allocate(HEADER_BYTES + payload.length).putInt(payload.length).put((byte) type)
                .put((byte) 0).putInt(stream).put(payload).flip();
    }

    /** {@return an ERROR frame} */
    public static ByteBuffer error(int code, String message) {
        return frame(ERROR, 0, codeAndText(code, message));
    }

    /** {@return a GOAWAY frame: the sender takes no new stream and closes once its open ones have ended} */
    public static ByteBuffer goAway(int code, String message) {
        return frame(GOAWAY, 0, codeAndText(code, message));
    }

    private static byte[] codeAndText(int code, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + Math.min(text.length, 1024)).putShort((short) code)
                .put(text, 0, Math.min(text.length, 1024)).array();
    }
}
