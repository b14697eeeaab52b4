package io.relaygate.core.tunnel;

import io.relaygate.core.shaping.Throttle;
import io.relaygate.core.link.Frames;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.IoHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * Relays one tunnel between a plain socket and one stream of a link (docs/link-protocol.md), on one loop.
 * <p>
 * Raw to link: bytes are read into a pooled buffer behind a reserved frame header, so a DATA frame goes out without
 * a copy; EOF becomes FIN. Link to raw: frames are parsed in place in a pooled buffer and DATA payloads are written
 * straight to the socket; FIN becomes {@code shutdownOutput()}, RST or a broken link a reset. Backpressure as in
 * {@link Relay}: a side whose sink is full is not read, so each direction holds at most one buffer, and an idle
 * tunnel none.
 */
final class FramedRelay extends TunnelRelay {

    private static final int MAX_READS_PER_EVENT = 16;
    /** Control payloads are tiny; a larger one is a protocol violation, never a reason to buffer. */
    private static final int MAX_CONTROL_PAYLOAD = 2 + 1024;

    private final SocketChannel raw;
    private final SelectionKey rawKey;
    private final SocketChannel link;
    private final SelectionKey linkKey;
    private final int stream;
    /** Whether the raw side is the client (local role): raw to link is then "up". */
    private final boolean rawIsClient;
    private final Throttle fromRawThrottle;
    private final Throttle toRawThrottle;
    private final Runnable resumeRaw = resumer(this::readRaw);
    private final Runnable resumeLink = resumer(this::readLink);

    // raw -> link
    private ByteBuffer toLink;
    private boolean toLinkPooled;
    private ByteBuffer control = ByteBuffer.allocate(0);
    private boolean rawEof;
    private boolean finQueued;
    private boolean upEnded;

    // link -> raw
    private ByteBuffer toRaw;          // bytes for the raw side before any frame: the handshake reply
    private ByteBuffer linkIn;         // pooled, write mode between events
    private int dataRemaining;
    private boolean rawBlocked;
    private boolean linkEof;
    private boolean downEnded;

    FramedRelay(EventLoop loop, TunnelServices services, TunnelRecord record, SocketChannel raw, SelectionKey rawKey,
                SocketChannel link, SelectionKey linkKey, int stream, ByteBuffer initialToRaw,
                ByteBuffer initialToLink, ByteBuffer linkLeftover, boolean rawIsClient) {
        super(loop, services, record);
        this.raw = raw;
        this.rawKey = rawKey;
        this.link = link;
        this.linkKey = linkKey;
        this.stream = stream;
        this.rawIsClient = rawIsClient;
        this.fromRawThrottle = rawIsClient ? upThrottle : downThrottle;
        this.toRawThrottle = rawIsClient ? downThrottle : upThrottle;
        this.toRaw = initialToRaw != null && initialToRaw.hasRemaining() ? initialToRaw : null;
        if (initialToLink != null && initialToLink.hasRemaining()) {
            // Early data from the client becomes DATA frames ahead of anything read later.
            countFromRaw(initialToLink.remaining());
            ByteBuffer frames = ByteBuffer.allocate(initialToLink.remaining()
                    + Frames.HEADER_BYTES * (1 + initialToLink.remaining() / Frames.MAX_PAYLOAD));
            while (initialToLink.hasRemaining()) {
                int n = Math.min(initialToLink.remaining(), Frames.MAX_PAYLOAD);
                frames.putInt(n).put((byte) Frames.DATA).put((byte) 0).putInt(stream);
                frames.put(initialToLink.slice(initialToLink.position(), n));
                initialToLink.position(initialToLink.position() + n);
            }
            toLink = frames.flip();
        }
        if (linkLeftover != null && linkLeftover.hasRemaining()) {
            linkIn = services.pool().acquire();
            linkIn.put(linkLeftover);
        }
    }

    /** Starts relaying after {@code prefix} (e.g. the unsent rest of OPEN_RESULT) has gone out on the link. */
    void startWithLinkPrefix(ByteBuffer prefix) {
        if (prefix != null && prefix.hasRemaining()) {
            control = prefix;
        }
        start();
    }

    void start() {
        opened();
        rawKey.attach(new Side(true));
        linkKey.attach(new Side(false));
        try {
            flushToRaw();
            flushToLink();
            if (linkIn != null && !rawBlocked && toRaw == null) {
                decode();
            }
            interestChanged();
        } catch (IOException e) {
            abort("reset", e);
        }
    }

    private final class Side implements IoHandler {
        private final boolean isRaw;

        Side(boolean isRaw) {
            this.isRaw = isRaw;
        }

        @Override
        public void ready(SelectionKey key) throws IOException {
            int ready = key.readyOps();
            if ((ready & SelectionKey.OP_WRITE) != 0) {
                if (isRaw) {
                    flushToRaw();
                } else {
                    flushToLink();
                }
            }
            if (!isClosed() && (ready & SelectionKey.OP_READ) != 0) {
                if (isRaw) {
                    readRaw();
                } else {
                    readLink();
                }
            }
            if (!isClosed()) {
                interestChanged();
            }
        }

        @Override
        public void failed(Throwable cause) {
            sideFailed(cause);
        }
    }

    // ---- raw -> link ----

    private void readRaw() throws IOException {
        if (rawEof || toLink != null || control.hasRemaining()) {
            return;
        }
        BufferPool pool = services.pool();
        int maxPayload = Math.min(pool.bufferSize(), Frames.HEADER_BYTES + Frames.MAX_PAYLOAD) - Frames.HEADER_BYTES;
        int allowed = fromRawThrottle.grant(maxPayload, resumeRaw);
        if (allowed == 0) {
            return;                 // parked: no buffer held, read interest off until the resume
        }
        ByteBuffer buffer = pool.acquire();
        try {
            for (int reads = 1; ; reads++) {
                buffer.clear().limit(Frames.HEADER_BYTES + allowed).position(Frames.HEADER_BYTES);
                int n = raw.read(buffer);
                if (n <= 0) {
                    rawEof = n < 0;
                    break;
                }
                fromRawThrottle.used(n);
                countFromRaw(n);
                touch();
                buffer.putInt(0, n).put(4, (byte) Frames.DATA).put(5, (byte) 0).putInt(6, stream);
                buffer.flip();
                link.write(buffer);
                if (buffer.hasRemaining()) {
                    toLink = buffer;
                    toLinkPooled = true;
                    buffer = null;
                    return;
                }
                if (n < allowed || reads == MAX_READS_PER_EVENT) {
                    break;
                }
                allowed = fromRawThrottle.grant(maxPayload, resumeRaw);
                if (allowed == 0) {
                    break;
                }
            }
        } finally {
            if (buffer != null) {
                pool.release(buffer);
            }
            fromRawThrottle.settle();
        }
        if (rawEof) {
            queueFin();
        }
    }

    private void queueFin() throws IOException {
        if (!finQueued) {
            finQueued = true;
            queueControl(Frames.frame(Frames.FIN, stream, new byte[0]));
        }
    }

    private void queueControl(ByteBuffer frame) throws IOException {
        ByteBuffer joined = ByteBuffer.allocate(control.remaining() + frame.remaining());
        control = joined.put(control).put(frame).flip();
        flushToLink();
    }

    private void flushToLink() throws IOException {
        if (toLink != null) {
            link.write(toLink);
            if (toLink.hasRemaining()) {
                return;
            }
            if (toLinkPooled) {
                services.pool().release(toLink);
            }
            toLink = null;
            toLinkPooled = false;
        }
        if (control.hasRemaining()) {
            link.write(control);
            if (control.hasRemaining()) {
                return;
            }
        }
        if (finQueued && !upEnded) {
            upEnded = true;
            directionEnded(downEnded);
        } else if (!rawEof) {
            readRaw();
        }
    }

    // ---- link -> raw ----

    private void readLink() throws IOException {
        if (linkEof || rawBlocked || toRaw != null) {
            return;
        }
        try {
            for (int i = 0; i < MAX_READS_PER_EVENT && !isClosed(); i++) {
                // Link bytes are charged as read, frame headers included: under 0.1% at full frames.
                int room = linkIn == null ? services.pool().bufferSize() : linkIn.remaining();
                int allowed = room == 0 ? 0 : toRawThrottle.grant(room, resumeLink);
                if (allowed == 0) {
                    return;
                }
                if (linkIn == null) {
                    linkIn = services.pool().acquire();
                }
                linkIn.limit(linkIn.position() + allowed);
                int n;
                try {
                    n = link.read(linkIn);
                } finally {
                    linkIn.limit(linkIn.capacity());
                }
                if (n < 0) {
                    linkEof = true;
                    if (!downEnded) {
                        // The link ended without a FIN for this stream: the tunnel broke.
                        abort("link closed", new IOException("link closed mid-stream"));
                    }
                    return;
                }
                if (n == 0) {
                    releaseLinkInIfEmpty();
                    return;
                }
                toRawThrottle.used(n);
                touch();
                decode();
                if (rawBlocked || isClosed()) {
                    return;
                }
            }
        } finally {
            toRawThrottle.settle();
        }
    }

    /** Parses what {@link #linkIn} holds and delivers it; stops when the raw side blocks. */
    private void decode() throws IOException {
        linkIn.flip();
        try {
            while (!isClosed()) {
                if (dataRemaining > 0) {
                    int chunk = Math.min(dataRemaining, linkIn.remaining());
                    if (chunk == 0) {
                        break;
                    }
                    ByteBuffer slice = linkIn.slice(linkIn.position(), chunk);
                    int written = raw.write(slice);
                    linkIn.position(linkIn.position() + written);
                    dataRemaining -= written;
                    countToRaw(written);
                    if (written < chunk) {
                        rawBlocked = true;
                        break;
                    }
                    continue;
                }
                if (linkIn.remaining() < Frames.HEADER_BYTES) {
                    break;
                }
                int at = linkIn.position();
                long length = linkIn.getInt(at) & 0xFFFF_FFFFL;
                int type = linkIn.get(at + 4) & 0xFF;
                int frameStream = linkIn.getInt(at + 6);
                if (length > Frames.MAX_PAYLOAD || (frameStream != stream && frameStream != 0)) {
                    protocolError("bad frame (type " + type + ", stream " + frameStream + ", length " + length + ")");
                    return;
                }
                if (type == Frames.DATA) {
                    if (downEnded) {
                        protocolError("DATA after FIN");
                        return;
                    }
                    linkIn.position(at + Frames.HEADER_BYTES);
                    dataRemaining = (int) length;
                    continue;
                }
                if (length > MAX_CONTROL_PAYLOAD) {
                    protocolError("control frame of " + length + " bytes");
                    return;
                }
                if (linkIn.remaining() < Frames.HEADER_BYTES + length) {
                    break;
                }
                byte[] payload = new byte[(int) length];
                linkIn.get(at + Frames.HEADER_BYTES, payload);
                linkIn.position(at + Frames.HEADER_BYTES + (int) length);
                control(type, payload);
            }
        } finally {
            if (linkIn != null) {
                linkIn.compact();
                releaseLinkInIfEmpty();
            }
        }
    }

    private void control(int type, byte[] payload) throws IOException {
        switch (type) {
            case Frames.FIN -> {
                if (!downEnded) {
                    downEnded = true;
                    raw.shutdownOutput();
                    directionEnded(upEnded);
                }
            }
            case Frames.RST -> abort("reset by peer", new IOException("RST on the link"));
            case Frames.PING -> queueControl(Frames.frame(Frames.PONG, 0, payload));
            case Frames.PONG, Frames.WINDOW -> { }
            case Frames.ERROR -> abort("link error", new IOException("ERROR frame on the link"));
            default -> protocolError("unexpected frame type " + type);
        }
    }

    private void protocolError(String reason) {
        abort("link protocol error", new IOException(reason));
    }

    private void flushToRaw() throws IOException {
        if (toRaw != null) {
            raw.write(toRaw);
            if (toRaw.hasRemaining()) {
                return;
            }
            toRaw = null;
        }
        if (rawBlocked) {
            rawBlocked = false;
        }
        if (linkIn != null) {
            decode();
        }
        if (!rawBlocked && !isClosed()) {
            readLink();
        }
    }

    private void releaseLinkInIfEmpty() {
        if (linkIn != null && linkIn.position() == 0) {
            services.pool().release(linkIn);
            linkIn = null;
        }
    }

    // ---- common ----

    private void countFromRaw(int n) {
        if (rawIsClient) {
            countUp(n);
        } else {
            countDown(n);
        }
    }

    private void countToRaw(int n) {
        if (rawIsClient) {
            countDown(n);
        } else {
            countUp(n);
        }
    }

    @Override
    void interestChanged() {
        boolean readRaw = !rawEof && toLink == null && !control.hasRemaining() && !fromRawThrottle.isParked();
        boolean writeRaw = toRaw != null || rawBlocked;
        boolean readLink = !linkEof && !rawBlocked && toRaw == null && !toRawThrottle.isParked();
        boolean writeLink = toLink != null || control.hasRemaining();
        int rawOps = (readRaw ? SelectionKey.OP_READ : 0) | (writeRaw ? SelectionKey.OP_WRITE : 0);
        int linkOps = (readLink ? SelectionKey.OP_READ : 0) | (writeLink ? SelectionKey.OP_WRITE : 0);
        if (rawKey.isValid() && rawKey.interestOps() != rawOps) {
            rawKey.interestOps(rawOps);
        }
        if (linkKey.isValid() && linkKey.interestOps() != linkOps) {
            linkKey.interestOps(linkOps);
        }
    }

    @Override
    void closeSockets(boolean reset) {
        if (reset) {
            // Tell the far end of the link before dropping it; best effort, the link may be gone already.
            try {
                link.write(Frames.frame(Frames.RST, stream, new byte[0]));
            } catch (IOException | RuntimeException ignored) {
                // the link is broken: the reset below says it all
            }
            Sockets.reset(raw);
            Sockets.reset(link);
        } else {
            Sockets.close(raw);
            Sockets.close(link);
        }
        rawKey.cancel();
        linkKey.cancel();
    }

    @Override
    void releaseBuffers() {
        if (toLink != null && toLinkPooled) {
            services.pool().release(toLink);
        }
        toLink = null;
        if (linkIn != null) {
            services.pool().release(linkIn);
            linkIn = null;
        }
    }
}
