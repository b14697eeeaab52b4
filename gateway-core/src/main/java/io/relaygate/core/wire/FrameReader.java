package io.relaygate.core.wire;

import java.nio.ByteBuffer;

/**
 * Reads frame headers in place, from a buffer that holds whatever part of the link has arrived: nothing is copied
 * and nothing allocated. The declared length is checked before anything waits for the payload, so a hostile length
 * costs nothing; an unknown type fails at once. Confined to one connection.
 */
public final class FrameReader {

    private int type;
    private int flags;
    private int stream;
    private int length;

    /**
     * Reads the header at {@code in}'s position if all of it has arrived, without consuming anything.
     *
     * @return whether a header was read; its fields are then in {@link #type()}, {@link #stream()} and the others
     * @throws LinkProtocolException on a length over {@link Frames#MAX_PAYLOAD}, or over
     *                               {@link Frames#MAX_CONTROL_PAYLOAD} for anything but DATA, or an unknown type
     */
    public boolean header(ByteBuffer in) throws LinkProtocolException {
        if (in.remaining() < Frames.HEADER_BYTES) {
            return false;
        }
        int at = in.position();
        long declared = in.getInt(at) & 0xFFFF_FFFFL;
        type = in.get(at + 4) & 0xFF;
        flags = in.get(at + 5) & 0xFF;
        stream = in.getInt(at + 6);
        if (!Frames.isKnownType(type)) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unknown frame type " + type);
        }
        long max = type == Frames.DATA ? Frames.MAX_PAYLOAD : Frames.MAX_CONTROL_PAYLOAD;
        if (declared > max) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "frame length " + declared + " over " + max
                    + (type == Frames.DATA ? "" : " for frame type " + type));
        }
        length = (int) declared;
        return true;
    }

    /**
     * Takes the whole frame whose header was just read, if all of it has arrived: the payload as a slice of
     * {@code in}, valid until {@code in} is next written; {@code in}'s position moves past the frame.
     *
     * @return the payload, or null if part of it is still to come (nothing is consumed then)
     */
    public ByteBuffer frame(ByteBuffer in) {
        int at = in.position();
        if (in.remaining() < Frames.HEADER_BYTES + length) {
            return null;
        }
        ByteBuffer payload = in.slice(at + Frames.HEADER_BYTES, length);
        in.position(at + Frames.HEADER_BYTES + length);
        return payload;
    }

    /** Consumes the header just read, leaving {@code in} at the payload (for DATA, which is streamed). */
    public void skipHeader(ByteBuffer in) {
        in.position(in.position() + Frames.HEADER_BYTES);
    }

    public int type() {
        return type;
    }

    public int flags() {
        return flags;
    }

    public int stream() {
        return stream;
    }

    public int length() {
        return length;
    }
}
