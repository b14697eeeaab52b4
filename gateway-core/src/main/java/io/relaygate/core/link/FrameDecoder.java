package io.relaygate.core.link;

import java.nio.ByteBuffer;

/**
 * Splits the bytes of a link into frames, whatever their fragmentation. The declared length is checked against
 * {@link Frames#MAX_PAYLOAD} before a payload buffer exists, so a hostile length costs nothing; an unknown type
 * fails at once. Confined to one connection.
 */
public final class FrameDecoder {

    /** Receives each complete frame. */
    @FunctionalInterface
    public interface Handler {
        /**
         * @param payload the payload in read mode; valid only during the call
         * @throws LinkProtocolException if the frame is not acceptable here, which closes the link
         */
        void onFrame(int type, int flags, int stream, ByteBuffer payload) throws LinkProtocolException;
    }

    private final ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_BYTES);
    private ByteBuffer payload;
    private int type;
    private int flags;
    private int stream;
    private boolean paused;

    /**
     * Stops {@link #decode} after the current frame, leaving the following bytes in its input (e.g. after OPEN, when
     * the relay takes over the connection). Call from the handler.
     */
    public void pause() {
        paused = true;
    }

    /**
     * Consumes all of {@code in}, calling {@code handler} for each complete frame.
     *
     * @throws LinkProtocolException on a length over the limit or an unknown type
     */
    public void decode(ByteBuffer in, Handler handler) throws LinkProtocolException {
        while (in.hasRemaining() && !paused) {
            if (payload == null) {
                transfer(in, header);
                if (header.hasRemaining()) {
                    return;
                }
                header.flip();
                long length = header.getInt() & 0xFFFF_FFFFL;
                type = header.get() & 0xFF;
                flags = header.get() & 0xFF;
                stream = header.getInt();
                header.clear();
                if (length > Frames.MAX_PAYLOAD) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "frame length " + length + " over "
                            + Frames.MAX_PAYLOAD);
                }
                if (!Frames.isKnownType(type)) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unknown frame type " + type);
                }
                payload = ByteBuffer.allocate((int) length);
            }
            transfer(in, payload);
            if (payload.hasRemaining()) {
                return;
            }
            ByteBuffer complete = payload.flip();
            payload = null;
            handler.onFrame(type, flags, stream, complete);
        }
    }

    private static void transfer(ByteBuffer from, ByteBuffer to) {
        int n = Math.min(from.remaining(), to.remaining());
        ByteBuffer slice = from.slice(from.position(), n);
        to.put(slice);
        from.position(from.position() + n);
    }
}
