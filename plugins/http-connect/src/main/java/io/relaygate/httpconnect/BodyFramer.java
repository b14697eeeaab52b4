package io.relaygate.httpconnect;

import java.nio.ByteBuffer;

/**
 * Finds where one message body ends as it streams through (RFC 9112 §6.3), never buffering it: {@link #next} says how
 * many of the bytes at the buffer's front belong to the body, and whether they are passed on ({@link #keep}) or are
 * chunk framing dropped for an HTTP/1.0 client. Confined to one connection's loop.
 */
abstract class BodyFramer {

    /** Whether the run {@link #next} returned last is forwarded. */
    boolean keep = true;

    /**
     * {@return the length of the next run of body bytes from {@code in}'s position (not consumed); 0 when more input
     * is needed or the body is complete}
     *
     * @throws HttpException the framing is malformed
     */
    abstract int next(ByteBuffer in) throws HttpException;

    /** {@return whether the whole body has been returned} */
    abstract boolean done();

    /** The source ended: {@return whether that ends the body cleanly (a close-delimited one) rather than truncates it} */
    boolean endOfStream() {
        return done();
    }

    static final BodyFramer NONE = new BodyFramer() {
        @Override
        int next(ByteBuffer in) {
            return 0;
        }

        @Override
        boolean done() {
            return true;
        }
    };

    static BodyFramer fixed(long length) {
        return length == 0 ? NONE : new Fixed(length);
    }

    static BodyFramer untilClose() {
        return new UntilClose();
    }

    /** A chunked body; {@code strip} removes the framing and the trailers, leaving the content. */
    static BodyFramer chunked(boolean strip) {
        return new Chunked(strip);
    }

    private static final class Fixed extends BodyFramer {
        private long left;

        Fixed(long length) {
            this.left = length;
        }

        @Override
        int next(ByteBuffer in) {
            int n = (int) Math.min(left, in.remaining());
            left -= n;
            return n;
        }

        @Override
        boolean done() {
            return left == 0;
        }
    }

    private static final class UntilClose extends BodyFramer {
        private boolean ended;

        @Override
        int next(ByteBuffer in) {
            return in.remaining();
        }

        @Override
        boolean done() {
            return ended;
        }

        @Override
        boolean endOfStream() {
            ended = true;
            return true;
        }
    }

    /** RFC 9112 §7.1: chunk-size [chunk-ext] CRLF chunk-data CRLF ... last-chunk trailer-section CRLF. */
    private static final class Chunked extends BodyFramer {
        /** A chunk-size line with its extensions, or a trailer field line, is at most this long. */
        private static final int MAX_LINE = 4096;

        private enum State { SIZE, DATA, DATA_END, TRAILER, DONE }

        private final boolean strip;
        private State state = State.SIZE;
        private long dataLeft;

        Chunked(boolean strip) {
            this.strip = strip;
        }

        @Override
        int next(ByteBuffer in) throws HttpException {
            int pos = in.position();
            int limit = in.limit();
            switch (state) {
                case DATA -> {
                    int n = (int) Math.min(dataLeft, limit - pos);
                    dataLeft -= n;
                    if (dataLeft == 0) {
                        state = State.DATA_END;
                    }
                    keep = true;
                    return n;
                }
                case DATA_END -> {
                    if (limit - pos < 2) {
                        return 0;
                    }
                    if (in.get(pos) != '\r' || in.get(pos + 1) != '\n') {
                        throw HttpException.badRequest("chunk data not followed by CRLF");
                    }
                    state = State.SIZE;
                    keep = !strip;
                    return 2;
                }
                case SIZE -> {
                    int lf = line(in, pos, limit);
                    if (lf < 0) {
                        return 0;
                    }
                    dataLeft = chunkSize(in, pos, lf - 1);
                    state = dataLeft == 0 ? State.TRAILER : State.DATA;
                    keep = !strip;
                    return lf + 1 - pos;
                }
                case TRAILER -> {
                    int lf = line(in, pos, limit);
                    if (lf < 0) {
                        return 0;
                    }
                    if (lf == pos + 1) {
                        state = State.DONE;      // the empty line that ends the trailer section
                    } else if (in.get(pos) == ' ' || in.get(pos) == '\t'
                            || HeadParser.indexOf(in, pos, lf, (byte) ':') <= pos) {
                        throw HttpException.badRequest("malformed trailer field");
                    }
                    keep = !strip;
                    return lf + 1 - pos;
                }
                default -> {
                    return 0;
                }
            }
        }

        /** {@return the index of the LF ending a CRLF line starting at {@code pos}, or -1 if it is not all here} */
        private static int line(ByteBuffer in, int pos, int limit) throws HttpException {
            int lf = HeadParser.indexOf(in, pos, Math.min(limit, pos + MAX_LINE), (byte) '\n');
            if (lf < 0) {
                if (limit - pos >= MAX_LINE) {
                    throw HttpException.badRequest("chunk line longer than " + MAX_LINE + " bytes");
                }
                return -1;
            }
            if (lf == pos || in.get(lf - 1) != '\r') {
                throw HttpException.badRequest("bare LF in chunked framing");
            }
            return lf;
        }

        /** chunk-size = 1*HEXDIG, then optional extensions after ';' (passed on, never interpreted). */
        private static long chunkSize(ByteBuffer in, int from, int cr) throws HttpException {
            long size = 0;
            int i = from;
            for (; i < cr; i++) {
                int digit = Character.digit(in.get(i), 16);
                if (digit < 0) {
                    break;
                }
                if (i - from >= 15) {
                    throw HttpException.badRequest("chunk size too large");
                }
                size = size * 16 + digit;
            }
            if (i == from) {
                throw HttpException.badRequest("malformed chunk size");
            }
            for (int j = i; j < cr; j++) {
                byte b = in.get(j);
                if (b == '\r' || b == '\n' || b == 0 || (j == i && b != ';' && b != ' ' && b != '\t')) {
                    throw HttpException.badRequest("malformed chunk extension");
                }
            }
            return size;
        }

        @Override
        boolean done() {
            return state == State.DONE;
        }
    }
}
