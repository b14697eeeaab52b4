package io.relaygate.core.link;

import io.relaygate.core.net.PendingWrites;
import io.relaygate.core.net.Port;
import io.relaygate.core.net.PortException;
import io.relaygate.core.net.Shutdown;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.reactor.Timer;
import io.relaygate.core.wire.FrameReader;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.core.wire.LinkProtocolException;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One authenticated link, in either role, from the end of its handshake to its close: the frames after
 * SERVER_OUTCOME, a table of {@link LinkStream}s that either side opens, per-stream flow control, keepalive, GOAWAY,
 * and the link's output, which its streams share (docs/link-protocol.md, version 2). Confined to its loop.
 * <p>
 * Input is read into one pooled buffer and decoded in place. A DATA payload goes straight from it to the stream's
 * relay when the relay reads now; what the relay does not take waits in the stream (at most the window this side
 * granted), so one slow stream never stops the link. Output: a stream writes DATA frames straight to the port while
 * no other stream waits; otherwise streams take turns (round robin, at most {@link #TURN_BYTES} a turn, frames of
 * at most {@link #FRAME_BYTES}). A frame the port takes only part of is kept by the session, whole, so a stream that
 * ends mid-frame cannot corrupt the link. A failure of the link fails every stream with a {@link PortException}
 * naming what happened.
 */
public final class LinkSession implements Port.Handler {

    /** Decides what to do with a stream the peer opens. Called on the session's loop. */
    @FunctionalInterface
    public interface Acceptor {
        /**
         * The peer sent OPEN for {@code stream}: answer later, on the loop, with {@link #accept} or {@link #refuse}.
         * Throwing closes the link.
         *
         * @param request where to connect, or (opened by a remote) the visitor and the exposed service
         */
        void open(LinkSession session, int stream, LinkMessages.Open request);

        /**
         * The peer sent REGISTER or REGISTER_RESULT (stream 0, the reverse tunnel's registrations); by default a
         * violation. Called on the loop.
         *
         * @throws LinkProtocolException to close the link with ERROR 2
         */
        default void registration(LinkSession session, int type, ByteBuffer payload) throws LinkProtocolException {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame type " + type + " on this link");
        }

        /**
         * {@return whether the link is in use while it carries no stream (it holds the reverse tunnel's public
         * ports), so that it is never closed as unused} Called on the loop, a few times per unused-link period.
         */
        default boolean inUseWithoutStreams(LinkSession session) {
            return false;
        }
    }

    /** The answer to {@link #open}. Called once on the session's loop, unless the session was closed first. */
    public interface OpenCallback {
        void opened(LinkStream stream, InetSocketAddress bound);

        /**
         * @param retry the peer refused the stream for now (it is going away, or at its stream limit): the same
         *              OPEN may succeed on another link
         */
        void failed(TunnelOutcome outcome, String reason, boolean retry);
    }

    /** Hears how the session's life goes. Called on the session's loop. */
    public interface CloseListener {
        /** The session has ended; called once. */
        void closed(LinkSession session, String reason);

        /** The peer sent GOAWAY: no new stream should go on this link; the open ones go on. */
        default void goingAway(LinkSession session) {
        }
    }

    /**
     * How a session behaves.
     *
     * @param client      whether this side opens odd stream numbers (the local role)
     * @param pingNanos   send a PING this often (0: never); its answer measures the round trip
     * @param pongNanos   the time a PING has to be answered
     * @param silentNanos close a link the peer has sent nothing on for this long (0: never)
     * @param unusedNanos close a link that has carried no stream for this long, with ERROR 4 (0: never)
     * @param lingerNanos the longest a closing link waits for its last frames to go out
     * @param maxStreams  the streams this side lets the peer hold open at once; more are refused for now
     * @param windows     the bytes the peer may send on a stream before this side grants more, and their growth
     */
    public record Settings(boolean client, long pingNanos, long pongNanos, long silentNanos, long unusedNanos,
                           long lingerNanos, int maxStreams, StreamWindows windows) {
    }

    /** The largest DATA payload this side writes: one TLS record, so a turn never holds the link long. */
    static final int FRAME_BYTES = 16 * 1024;
    /** The most a stream writes in one turn while others wait. */
    static final int TURN_BYTES = 64 * 1024;
    /** Frames written by one gathering write. */
    private static final int FRAMES_PER_WRITE = 4;
    /** Turns given in one pass of the write scheduler before the loop serves its other channels. */
    private static final int TURNS_PER_PASS = 256;
    /**
     * The shortest quarter-window time that still counts as window-bound: PINGs skip the queues, so on a short path
     * they see less than the latency the loops add under load.
     */
    private static final long MIN_GROWTH_NANOS = 2_000_000L;
    /** The highest stream number; a side that reaches it stops opening streams on the link. */
    private static final int LAST_STREAM = Integer.MAX_VALUE - 1;

    private final EventLoop loop;
    private final Port port;
    private final BufferPool pool;
    private final Settings settings;
    private final int peerMaxStreams;
    private final Acceptor acceptor;
    private final CloseListener listener;
    private final FrameReader reader = new FrameReader();
    private final Map<Integer, LinkStream> streams = new HashMap<>();
    private final Map<Integer, OpenCallback> opening = new HashMap<>(4);
    /** Streams the peer opened that the acceptor has not answered yet, with the window the peer granted each. */
    private final Map<Integer, Integer> accepting = new HashMap<>(4);

    // input: read mode between events; null while empty
    private ByteBuffer in;
    /** Whether the input buffer is the pool's: not when the pool's buffers are too small for a control frame. */
    private final boolean inputPooled;
    /** Whether a bulk buffer can hold the input: it must take the largest control frame. */
    private final boolean bulkInputFits;
    /** The pool {@link #in} goes back to; null when it is not pooled. */
    private BufferPool inputFrom;
    /** The link's last read filled a relay buffer's worth: its input comes in bulk, a bulk buffer takes more. */
    private boolean inputInBulk;
    private LinkStream dataStream;
    private int dataRemaining;
    private boolean decoding;
    private final List<LinkStream> toDeliver = new ArrayList<>();
    private boolean deliveryScheduled;

    // output: a frame the port took part of (pooled or heap), then control frames; streams waiting for a turn
    private final ByteBuffer[] headers = new ByteBuffer[FRAMES_PER_WRITE];
    private final ByteBuffer[][] gathers = new ByteBuffer[FRAMES_PER_WRITE + 1][];
    private ByteBuffer spill;
    private boolean spillPooled;
    private final PendingWrites control = new PendingWrites();
    /**
     * A turn of input or delivery is running: the WINDOW frames its reads earn wait for its end and leave together
     * (one record, one system call), not one each. Only WINDOW waits; nothing orders it against other frames.
     */
    private boolean windowsHeld;
    private boolean windowsWaiting;
    private final ArrayDeque<LinkStream> writeQueue = new ArrayDeque<>();
    private LinkStream serving;
    private boolean wakeScheduled;
    /** The port took less than a whole write, at a frame boundary: writers wait for its readiness. */
    private boolean portFull;

    private int nextOwnStream;
    /** The highest stream number the peer has opened: frames for a lower one that is gone are dropped. */
    private int highestPeerStream;
    private int refusedOpens;
    /** What this link's streams have grown beyond their initial windows, together. */
    private long grown;
    private long lastReceived;
    private long idleSince;
    private long lastPing;
    /** When the unanswered PING went out; 0 while none is. */
    private long pingSentAt;
    private long rttNanos = -1;
    private Timer keepalive;
    private Timer linger;
    private boolean goingAway;
    private boolean peerGoingAway;
    private boolean closing;
    private boolean closed;
    /** Why the session ended or is ending, for the close listener and the streams. */
    private String closeReason;

    /**
     * @param peerMaxStreams the streams the peer lets this side hold open at once (its SERVER_OUTCOME)
     * @param leftover       link bytes the handshake read past its last frame (read mode), or null
     * @param acceptor       what to do with streams the peer opens, or null to refuse them all
     */
    public LinkSession(EventLoop loop, Port port, BufferPool pool, Settings settings, int peerMaxStreams,
                       ByteBuffer leftover, Acceptor acceptor, CloseListener listener) {
        this.loop = loop;
        this.port = port;
        this.pool = pool;
        this.settings = settings;
        this.peerMaxStreams = peerMaxStreams;
        this.acceptor = acceptor;
        this.listener = listener;
        this.nextOwnStream = settings.client() ? 1 : 2;
        this.inputPooled = pool.bufferSize() >= Frames.CONTROL_BUFFER_BYTES;
        this.bulkInputFits = pool.bulk().bufferSize() >= Frames.CONTROL_BUFFER_BYTES;
        for (int i = 0; i < FRAMES_PER_WRITE; i++) {
            headers[i] = ByteBuffer.allocate(Frames.HEADER_BYTES);
            gathers[i + 1] = new ByteBuffer[2 * (i + 1)];
        }
        if (leftover != null && leftover.hasRemaining()) {
            in = acquireInput();
            in.put(leftover).flip();
        }
    }

    /**
     * Takes over the port: writes what the handshake left unsent, decodes what it read past its last frame, then
     * reads. Loop only.
     *
     * @param unsent the handshake's output not written yet, or null
     */
    public void start(ByteBuffer unsent) {
        port.handler(this);
        if (unsent != null) {
            control.add(unsent);
        }
        lastReceived = loop.now();
        idleSince = lastReceived;
        scheduleKeepalive();
        try {
            flushOutput();
        } catch (IOException e) {
            writeFailed(e);
            return;
        }
        if (in != null) {
            decodeSafely();
            releaseInputIfEmpty();
        }
        updateInterest();
    }

    /** {@return whether the session has ended} */
    public boolean isClosed() {
        return closed;
    }

    /** {@return whether the session can open a stream now: up, not going away, under the peer's stream limit} */
    public boolean canOpen() {
        return !closing && !closed && !goingAway && !peerGoingAway && nextOwnStream <= LAST_STREAM
                && load() < peerMaxStreams;
    }

    /** {@return whether the link takes no new stream any more: it or its peer is going away, or it is closing} */
    public boolean isDraining() {
        return goingAway || peerGoingAway || closing || closed;
    }

    /** {@return the streams open or being opened on this link, by either side} */
    public int load() {
        return streams.size() + opening.size() + accepting.size();
    }

    /** {@return the last PING's round trip in nanoseconds, or -1 before the first PONG} */
    public long roundTripNanos() {
        return rttNanos;
    }

    /** {@return how many streams the peer opened that this side refused because it accepts none (the local)} */
    public int refusedOpens() {
        return refusedOpens;
    }

    // ---- opening streams ----

    /** Asks the peer to open a stream to {@code destination}. Loop only; requires {@link #canOpen()}. */
    public void open(Destination destination, OpenCallback callback) {
        open(destination, null, callback);
    }

    /**
     * Asks the peer to open a stream: to {@code destination}, or, with a {@code service}, for the visitor
     * {@code destination} of that exposed service. Loop only; requires {@link #canOpen()}.
     */
    public void open(Destination destination, String service, OpenCallback callback) {
        if (!canOpen()) {
            throw new IllegalStateException("this link takes no new stream now");
        }
        int id = nextOwnStream;
        nextOwnStream += 2;
        opening.put(id, callback);
        idleChanged();
        sendControl(Frames.frame(Frames.OPEN, id, LinkMessages.open(settings.windows().initial(), destination,
                service)));
    }

    /** Sends a registration frame (REGISTER or REGISTER_RESULT) on stream 0. Loop only; dropped once closing. */
    public void sendRegistration(int type, byte[] payload) {
        if (!closed && !closing) {
            sendControl(Frames.frame(type, 0, payload));
        }
    }

    /** Refuses a stream the peer opened for a service this side did not expose, and counts it. Loop only. */
    public void refuseUnexposed(int id) {
        if (accepting.containsKey(id)) {
            refusedOpens++;
            refuse(id, TunnelOutcome.NOT_ALLOWED);
        }
    }

    /**
     * Accepts a stream the peer opened: OPEN_RESULT ok, then its bytes. Loop only.
     *
     * @return the stream, or null if the link is closing meanwhile (the acceptor closes what it opened for it)
     */
    public LinkStream accept(int id, InetSocketAddress bound) {
        Integer peerWindow = accepting.remove(id);
        if (closed || closing || peerWindow == null) {
            return null;
        }
        LinkStream stream = new LinkStream(this, id, peerWindow, settings.windows().initial(), loop.now());
        streams.put(id, stream);
        sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(TunnelOutcome.OK,
                settings.windows().initial(), bound)));
        return stream;
    }

    /** Refuses a stream the peer opened with {@code outcome}; the link goes on. Loop only. */
    public void refuse(int id, TunnelOutcome outcome) {
        if (accepting.remove(id) == null || closed) {
            return;
        }
        sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(outcome, 0, null)));
        idleChanged();
        closeIfDrained();
    }

    /**
     * Stops taking new streams: GOAWAY to the peer, OPENs from now on are refused for now (the peer tries another
     * link), and the link closes once its open streams have ended. Loop only; idempotent.
     */
    public void goAway(String reason) {
        if (closed || closing || goingAway) {
            return;
        }
        goingAway = true;
        closeReason = reason;
        sendControl(Frames.goAway(Frames.ERROR_SHUTTING_DOWN, reason));
        closeIfDrained();
    }

    // ---- the port's readiness ----

    @Override
    public void readable() throws IOException {
        windowsHeld = true;
        try {
            for (int reads = 0; reads < 16 && !closed && !closing; reads++) {
                if (in == null) {
                    in = acquireInput().flip();
                } else if (inputInBulk && inputFrom != pool.bulk()) {
                    moveInputToBulk();
                }
                in.compact();
                int n;
                try {
                    n = port.read(in);
                } finally {
                    in.flip();
                }
                if (n < 0) {
                    ended();
                    return;
                }
                if (n == 0) {
                    break;
                }
                inputInBulk = n >= pool.bufferSize() || in.limit() == in.capacity();
                lastReceived = loop.now();
                decodeSafely();
            }
        } finally {
            windowsHeld = false;
        }
        sendHeldWindows();
        releaseInputIfEmpty();
        updateInterest();
    }

    @Override
    public void writable() throws IOException {
        if (closed) {
            return;
        }
        portFull = false;
        if (flushOutput()) {
            if (closing) {
                finish(false);
                return;
            }
            serveWriters();
        }
        updateInterest();
    }

    @Override
    public void failed(Throwable cause) {
        if (cause instanceof Shutdown) {
            fail(cause, TunnelOutcome.GENERAL_FAILURE, "gateway stopping", false);
        } else {
            fail(new PortException("reset", "link failed: " + cause), TunnelOutcome.GENERAL_FAILURE,
                    "link failed: " + cause, true);
        }
    }

    // ---- input ----

    private void decodeSafely() {
        try {
            decode();
        } catch (LinkProtocolException e) {
            protocolError(e);
        } catch (IOException | RuntimeException e) {
            fail(new PortException("reset", "link failed: " + e), TunnelOutcome.GENERAL_FAILURE, "link failed: " + e,
                    true);
        }
    }

    private void decode() throws IOException, LinkProtocolException {
        if (in == null || decoding) {
            return;
        }
        decoding = true;
        try {
            while (!closed && in != null && in.hasRemaining()) {
                if (dataRemaining > 0) {
                    deliver();
                    continue;
                }
                if (!reader.header(in)) {
                    return;
                }
                if (reader.type() == Frames.DATA) {
                    data(reader.stream(), reader.length());
                    continue;
                }
                ByteBuffer payload = reader.frame(in);
                if (payload == null) {
                    return;
                }
                control(reader.type(), reader.stream(), payload);
            }
        } finally {
            decoding = false;
        }
    }

    /** Hands what the input holds of the head DATA payload to its stream's relay, or keeps it in the stream. */
    private void deliver() {
        LinkStream stream = dataStream;
        int available = Math.min(dataRemaining, in.remaining());
        if (stream == null) {
            in.position(in.position() + available);     // a stream that is gone: its bytes are dropped
            dataRemaining -= available;
            return;
        }
        if (stream.inboundBytes == 0 && stream.wantsRead()) {
            stream.readable();                          // it reads from the input in place
            if (dataStream != stream || closed) {
                return;                                 // reset meanwhile: the rest is dropped
            }
            available = Math.min(dataRemaining, in.remaining());
        }
        if (available > 0) {
            stream.enqueue(in, available, pool);
            dataRemaining -= available;
            if (stream.wantsRead()) {
                scheduleDelivery(stream);
            }
        }
    }

    private void data(int id, int length) throws LinkProtocolException {
        LinkStream stream = streams.get(id);
        if (stream == null && notOpened(id)) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "DATA on stream " + id + ", which is not open");
        }
        if (stream != null) {
            if (stream.finReceived) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "DATA after FIN on stream " + id);
            }
            if (length > stream.receiveLeft) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "DATA of " + length + " bytes on stream " + id
                        + " beyond its window (" + stream.receiveLeft + " bytes left)");
            }
            stream.receiveLeft -= length;
        }
        reader.skipHeader(in);
        dataStream = stream;
        dataRemaining = length;
    }

    /** {@return whether no stream {@code id} was ever opened on this link: a frame for it is a violation} */
    private boolean notOpened(int id) {
        if (id == 0) {
            return true;
        }
        boolean own = (id % 2 == 1) == settings.client();
        return own ? id >= nextOwnStream : id > highestPeerStream;
    }

    private void control(int type, int id, ByteBuffer payload) throws IOException, LinkProtocolException {
        switch (type) {
            case Frames.OPEN -> peerOpened(id, payload);
            case Frames.REGISTER, Frames.REGISTER_RESULT -> {
                if (id != 0 || acceptor == null) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame type " + type
                            + " on stream " + id);
                }
                acceptor.registration(this, type, payload);
            }
            case Frames.OPEN_RESULT -> openResult(id, payload);
            case Frames.FIN -> {
                LinkStream stream = streams.get(id);
                if (stream != null && !stream.finReceived) {
                    stream.finReceived = true;
                    if (stream.wantsRead()) {
                        scheduleDelivery(stream);       // it reads the end after what waits
                    }
                } else if (stream == null && notOpened(id)) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "FIN on stream " + id + ", not open");
                }
            }
            case Frames.RST -> {
                LinkStream stream = streams.get(id);
                if (stream != null) {
                    forget(stream);
                    stream.failed(new PortException("reset by peer", "RST on the link"));
                    closeIfDrained();
                } else if (notOpened(id)) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "RST on stream " + id + ", not open");
                }
            }
            case Frames.WINDOW -> window(id, payload);
            case Frames.PING -> sendControl(Frames.frame(Frames.PONG, 0, bytes(payload)));
            case Frames.PONG -> {
                if (pingSentAt != 0) {
                    rttNanos = loop.now() - pingSentAt;
                    pingSentAt = 0;
                }
            }
            case Frames.GOAWAY -> {
                if (!peerGoingAway) {
                    peerGoingAway = true;
                    if (closeReason == null) {
                        closeReason = "the peer is going away";
                    }
                    listener.goingAway(this);
                    closeIfDrained();
                }
            }
            case Frames.ERROR -> {
                int code = payload.remaining() >= 2 ? payload.getShort() & 0xFFFF : 0;
                String text = StandardCharsets.UTF_8.decode(payload).toString();
                fail(new PortException("link error", "ERROR " + code + " on the link"),
                        code == Frames.ERROR_AUTHENTICATION ? TunnelOutcome.LINK_AUTH_FAILED
                                : TunnelOutcome.GENERAL_FAILURE, "the peer sent ERROR " + code
                                + (text.isEmpty() ? "" : " (" + text + ")"), false);
            }
            default -> throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame type " + type
                    + " on an open link");
        }
    }

    private void window(int id, ByteBuffer payload) throws LinkProtocolException {
        if (payload.remaining() != 4) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "malformed WINDOW");
        }
        long credit = payload.getInt() & 0xFFFFFFFFL;
        LinkStream stream = streams.get(id);
        if (stream == null) {
            if (notOpened(id)) {
                throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "WINDOW on stream " + id + ", not open");
            }
            return;
        }
        if (credit == 0 || stream.sendCredit + credit > Integer.MAX_VALUE) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "WINDOW of " + credit + " on stream " + id);
        }
        stream.sendCredit += credit;
        if (stream.awaitingCredit) {
            stream.awaitingCredit = false;
            if (stream.wantsWrite()) {
                writeWanted(stream);
            }
        }
    }

    private void peerOpened(int id, ByteBuffer payload) throws LinkProtocolException {
        boolean peersNumber = settings.client() ? id % 2 == 0 : id % 2 == 1;
        if (!peersNumber || id <= highestPeerStream) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN on stream " + id + ", which the peer may"
                    + " not open");
        }
        LinkMessages.Open open = LinkMessages.open(payload);
        highestPeerStream = id;
        if (acceptor == null) {
            // This side accepts no streams (a local without exposed services): a polite refusal keeps the link.
            refusedOpens++;
            sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(TunnelOutcome.NOT_ALLOWED, 0,
                    null)));
            return;
        }
        if (goingAway || closing || load() >= settings.maxStreams()) {
            sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.refusedForNow()));
            return;
        }
        accepting.put(id, open.window());
        idleChanged();
        acceptor.open(this, id, open);
    }

    private void openResult(int id, ByteBuffer payload) throws LinkProtocolException {
        OpenCallback callback = opening.remove(id);
        if (callback == null) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN_RESULT for stream " + id
                    + ", which was not opened");
        }
        LinkMessages.OpenResult result = LinkMessages.openResult(payload);
        if (result.outcome() != TunnelOutcome.OK) {
            idleChanged();
            callback.failed(result.outcome(), result.retry() ? "the remote gateway cannot take the stream now"
                    : "the remote gateway answered " + result.outcome(), result.retry());
            closeIfDrained();
            return;
        }
        LinkStream stream = new LinkStream(this, id, result.window(), settings.windows().initial(), loop.now());
        streams.put(id, stream);
        callback.opened(stream, result.bound());
    }

    /** {@return bytes of {@code stream} into {@code dst}: what waits in it, then the input's; -1 after its FIN} */
    int read(LinkStream stream, ByteBuffer dst) {
        int n = stream.drain(dst, pool);
        if (stream.inboundBytes == 0 && decoding && stream == dataStream && in != null) {
            // Across the stream's DATA frames that follow in the input, so the relay writes a read's worth at once
            // rather than a frame at a time (a system call per frame on the far side).
            while (dst.hasRemaining() && (dataRemaining > 0 || nextDataFrameOf(stream))) {
                int direct = Math.min(dst.remaining(), Math.min(dataRemaining, in.remaining()));
                if (direct == 0) {
                    break;
                }
                int limit = in.limit();
                in.limit(in.position() + direct);
                dst.put(in);
                in.limit(limit);
                dataRemaining -= direct;
                n += direct;
            }
        }
        if (n == 0) {
            return stream.finReceived && stream.inboundBytes == 0 ? -1 : 0;
        }
        consumed(stream, n);
        return n;
    }

    /**
     * Starts the next frame in the input if it is DATA for {@code stream} within its window, as {@link #decode} would.
     * Anything else (another stream, a control frame, a violation) is left to {@link #decode}, which says what is
     * wrong with it.
     */
    private boolean nextDataFrameOf(LinkStream stream) {
        try {
            if (!reader.header(in) || reader.type() != Frames.DATA || reader.stream() != stream.id
                    || stream.finReceived || reader.length() > stream.receiveLeft) {
                return false;
            }
        } catch (LinkProtocolException e) {
            return false;
        }
        stream.receiveLeft -= reader.length();
        reader.skipHeader(in);
        dataRemaining = reader.length();
        return true;
    }

    /**
     * The relay took {@code n} bytes: grant them back once a quarter of the window is due, in one WINDOW. A stream
     * whose reader took everything that had arrived, and whose last quarter came within half a round trip, is bound
     * by its window rather than by the path or its reader: its window doubles, so that one stream can fill a long or
     * fast path while a stalled one still holds at most what it was granted. The link's growth budget is shared
     * equally by its streams, and a stream above its share gives the excess back from its next grants, so that the
     * streams that came first do not keep a larger window, and a larger share of the link, than those that follow.
     */
    private void consumed(LinkStream stream, int n) {
        stream.consumed += n;
        if (stream.consumed < stream.receiveWindow / 4 || stream.finReceived) {
            return;
        }
        long now = loop.now();
        int grant = stream.consumed;
        StreamWindows windows = settings.windows();
        long share = Math.min(windows.max(), windows.initial() + windows.linkGrowth() / Math.max(1, streams.size()));
        if (stream.receiveWindow > share) {
            int shrink = (int) Math.min(stream.receiveWindow - share, grant);
            stream.receiveWindow -= shrink;
            grown -= shrink;
            grant -= shrink;
        } else if (stream.inboundBytes == 0 && now - stream.lastGrantAt < Math.max(rttNanos / 2, MIN_GROWTH_NANOS)) {
            int growth = (int) Math.min(Math.min(stream.receiveWindow, share - stream.receiveWindow),
                    windows.linkGrowth() - grown);
            if (growth > 0) {
                stream.receiveWindow += growth;
                grown += growth;
                grant += growth;
            }
        }
        stream.lastGrantAt = now;
        stream.consumed = 0;
        if (grant > 0) {
            stream.receiveLeft += grant;
            ByteBuffer window = Frames.frame(Frames.WINDOW, stream.id, ByteBuffer.allocate(4).putInt(grant).array());
            if (windowsHeld) {
                control.add(window);            // with the others of this turn, in one record, at its end
                windowsWaiting = true;
            } else {
                sendControl(window);
            }
        }
    }

    /** Sends the WINDOW frames held during a turn of input or delivery, together. */
    private void sendHeldWindows() {
        if (windowsWaiting && !closed) {
            windowsWaiting = false;
            try {
                flushOutput();
            } catch (IOException e) {
                writeFailed(e);
            }
        }
    }

    /** The stream wants to read again: what waits in it, or its end, comes soon. */
    void readWanted(LinkStream stream) {
        if (stream.inboundBytes > 0 || stream.finReceived) {
            scheduleDelivery(stream);
        }
    }

    private void scheduleDelivery(LinkStream stream) {
        if (!stream.deliveryQueued && !closed) {
            stream.deliveryQueued = true;
            toDeliver.add(stream);
            if (!deliveryScheduled) {
                deliveryScheduled = true;
                loop.execute(this::deliverQueued);
            }
        }
    }

    private void deliverQueued() {
        deliveryScheduled = false;
        List<LinkStream> ready = new ArrayList<>(toDeliver);
        toDeliver.clear();
        windowsHeld = true;
        try {
            for (LinkStream stream : ready) {
                stream.deliveryQueued = false;
                if (!closed && stream.wantsRead() && (stream.inboundBytes > 0 || stream.finReceived)) {
                    int before = stream.inboundBytes;
                    stream.readable();
                    if (stream.wantsRead() && stream.inboundBytes > 0 && stream.inboundBytes < before) {
                        scheduleDelivery(stream);       // it took some and wants more
                    }
                }
            }
        } finally {
            windowsHeld = false;
        }
        sendHeldWindows();
        if (!closed) {
            updateInterest();
        }
    }

    private void ended() {
        String reason = "the peer closed the link";
        fail(new PortException("link closed", "link closed mid-stream"), TunnelOutcome.GENERAL_FAILURE, reason, false);
    }

    // ---- output ----

    /**
     * Writes one stream's bytes as DATA frames, within its credit; while other streams wait for a turn, only in
     * its own turn and at most {@link #TURN_BYTES}. {@return the bytes taken}
     */
    int write(LinkStream stream, ByteBuffer src) throws IOException {
        if (closed || closing) {
            throw new PortException("link closed", "the link is closing");
        }
        if (stream.sendCredit <= 0 || portFull || !flushOutput()) {
            return 0;
        }
        boolean othersWait = !writeQueue.isEmpty();
        if (othersWait && serving != stream) {
            return 0;                                   // its turn comes: writeWanted queues it
        }
        long budget = Math.min(src.remaining(), stream.sendCredit);
        if (othersWait) {
            budget = Math.min(budget, TURN_BYTES);
        }
        int taken = 0;
        while (taken < budget && spill == null && !portFull) {
            taken += writeFrames(stream, src, (int) (budget - taken));
        }
        stream.sendCredit -= taken;
        if (spill != null || portFull) {
            updateInterest();
        }
        return taken;
    }

    /** Writes up to {@link #FRAMES_PER_WRITE} frames of {@code src} in one gathering write. {@return bytes taken} */
    private int writeFrames(LinkStream stream, ByteBuffer src, int budget) throws IOException {
        int start = src.position();
        int frames = 0;
        int offered = 0;
        ByteBuffer[] gather = null;
        while (frames < FRAMES_PER_WRITE && offered < budget) {
            int n = Math.min(FRAME_BYTES, budget - offered);
            ByteBuffer header = headers[frames];
            header.clear();
            header.putInt(n).put((byte) Frames.DATA).put((byte) 0).putInt(stream.id).flip();
            frames++;
            offered += n;
        }
        gather = gathers[frames];
        int at = start;
        for (int i = 0; i < frames; i++) {
            int n = headers[i].getInt(0);
            gather[2 * i] = headers[i];
            gather[2 * i + 1] = src.slice(at, n);
            at += n;
        }
        try {
            port.write(gather);
            int taken = 0;
            for (int i = 0; i < frames; i++) {
                ByteBuffer header = headers[i];
                ByteBuffer payload = gather[2 * i + 1];
                if (header.position() == 0) {
                    break;                              // not started: not taken
                }
                taken += payload.capacity();
                if (header.hasRemaining() || payload.hasRemaining()) {
                    spill(header, payload);             // started: the frame is the session's now, it goes out whole
                    break;
                }
            }
            src.position(start + taken);
            if (taken < offered && spill == null) {
                portFull = true;
            }
            return taken;
        } finally {
            java.util.Arrays.fill(gather, null);
        }
    }

    private void spill(ByteBuffer header, ByteBuffer payload) {
        int size = header.remaining() + payload.remaining();
        spillPooled = size <= pool.bufferSize();
        spill = spillPooled ? pool.acquire() : ByteBuffer.allocate(size);
        spill.put(header).put(payload).flip();
    }

    /** Queues a frame of the link itself, written after any frame in progress. */
    void sendControl(ByteBuffer frame) {
        if (closed) {
            return;
        }
        control.add(frame);
        try {
            flushOutput();
        } catch (IOException e) {
            writeFailed(e);
            return;
        }
        updateInterest();
    }

    /** {@return whether nothing of the session's own output is left} */
    private boolean flushOutput() throws IOException {
        if (spill != null) {
            port.write(spill);
            if (spill.hasRemaining()) {
                return false;
            }
            releaseSpill();
        }
        return control.flush(port);
    }

    private void releaseSpill() {
        if (spill != null && spillPooled) {
            pool.release(spill);
        }
        spill = null;
    }

    /** A stream has bytes to write: it waits for its turn (and for credit, if it has none). */
    void writeWanted(LinkStream stream) {
        if (stream.queuedToWrite || stream.closed || closed) {
            return;
        }
        if (stream.sendCredit <= 0) {
            stream.awaitingCredit = true;
            return;
        }
        stream.queuedToWrite = true;
        writeQueue.add(stream);
        if (spill == null && control.isEmpty() && !portFull) {
            scheduleWake();                             // the link is idle: no write readiness will come
        }
        updateInterest();
    }

    private void scheduleWake() {
        if (!wakeScheduled) {
            wakeScheduled = true;
            loop.execute(() -> {
                wakeScheduled = false;
                if (!closed) {
                    serveWriters();
                    updateInterest();
                }
            });
        }
    }

    /** Gives waiting streams their turns, in order, while the port takes bytes. */
    private void serveWriters() {
        int turns = 0;
        while (!closed && !closing && spill == null && control.isEmpty() && !portFull && !writeQueue.isEmpty()) {
            if (turns++ == TURNS_PER_PASS) {
                scheduleWake();                         // let the loop serve its other channels first
                return;
            }
            LinkStream stream = writeQueue.poll();
            stream.queuedToWrite = false;
            if (!stream.wantsWrite()) {
                continue;
            }
            if (stream.sendCredit <= 0) {
                stream.awaitingCredit = true;
                continue;
            }
            serving = stream;
            try {
                stream.writable();
            } finally {
                serving = null;
            }
        }
    }

    private void updateInterest() {
        if (closed) {
            return;
        }
        boolean reading = !closing && (in == null || in.remaining() < in.capacity());
        boolean writing = spill != null || !control.isEmpty() || (portFull && !writeQueue.isEmpty());
        if (!writing && !writeQueue.isEmpty() && !closing) {
            scheduleWake();         // the output drained without a write readiness (a control frame went out whole)
        }
        port.interest(reading, writing);
    }

    /**
     * {@return an empty buffer for the link's input: a bulk one while the input comes in bulk and one is free, so that
     * a busy link's relays read (and write on) more per system call}
     */
    private ByteBuffer acquireInput() {
        if (inputInBulk && bulkInputFits) {
            ByteBuffer buffer = pool.bulk().tryAcquire();
            if (buffer != null) {
                inputFrom = pool.bulk();
                return buffer;
            }
        }
        inputFrom = inputPooled ? pool : null;
        return inputPooled ? pool.acquire() : ByteBuffer.allocate(Frames.CONTROL_BUFFER_BYTES);
    }

    /** Moves what waits in the input (a frame's start, read mode) into a bulk buffer, if one is free. */
    private void moveInputToBulk() {
        if (decoding || !bulkInputFits) {
            return;
        }
        ByteBuffer bulk = pool.bulk().tryAcquire();
        if (bulk != null) {
            bulk.put(in).flip();
            releaseInput();
            in = bulk;
            inputFrom = pool.bulk();
        }
    }

    private void releaseInputIfEmpty() {
        if (in != null && !in.hasRemaining() && !decoding) {
            releaseInput();
        }
    }

    private void releaseInput() {
        if (inputFrom != null) {
            inputFrom.release(in);
        }
        in = null;
        inputFrom = null;
    }

    // ---- streams ending ----

    /** A stream's output ended cleanly: FIN. */
    void fin(LinkStream stream) throws IOException {
        if (closed || closing) {
            throw new PortException("link closed", "the link is closing");
        }
        sendControl(Frames.frame(Frames.FIN, stream.id, new byte[0]));
    }

    /** A stream ended, cleanly or with a reset the peer is told of: forgotten; the link goes on. */
    void streamClosed(LinkStream stream, boolean reset) {
        if (closed) {
            stream.closed = true;
            return;
        }
        if (streams.get(stream.id) == stream) {
            forget(stream);
            if (reset) {
                sendControl(Frames.frame(Frames.RST, stream.id, new byte[0]));
            }
        }
        stream.closed = true;
        closeIfDrained();
    }

    private void forget(LinkStream stream) {
        streams.remove(stream.id);
        grown -= stream.receiveWindow - settings.windows().initial();
        stream.closed = true;
        stream.discard(pool);
        if (dataStream == stream) {
            dataStream = null;      // the rest of its payload is dropped
        }
        idleChanged();
    }

    /**
     * A link going away closes once nothing is open on it: the side that received GOAWAY closes it, because the
     * last bytes of a stream may still be on their way out of its relays when the sender's side of the stream has
     * ended; the sender closes it only if the peer has not within the linger time.
     */
    private void closeIfDrained() {
        if (load() != 0 || closed || closing) {
            return;
        }
        String reason = closeReason != null ? closeReason : "going away";
        if (peerGoingAway) {
            closeAfterFlush(reason);
        } else if (goingAway && linger == null) {
            linger = loop.schedule(settings.lingerNanos(), () -> closeAfterFlush(reason));
        }
    }

    // ---- keepalive ----

    private void idleChanged() {
        if (load() == 0) {
            idleSince = loop.now();
        }
    }

    private void scheduleKeepalive() {
        long next = Long.MAX_VALUE;
        for (long period : new long[] {settings.pingNanos(), settings.silentNanos(), settings.unusedNanos()}) {
            if (period > 0) {
                next = Math.min(next, period);
            }
        }
        if (next != Long.MAX_VALUE && !closed) {
            // Checked a few times a period, so a deadline is late by a fraction of it at most.
            keepalive = loop.schedule(Math.max(1, next / 4), this::keepaliveDue);
        }
    }

    private void keepaliveDue() {
        keepalive = null;
        if (closed || closing) {
            return;
        }
        long now = loop.now();
        if (settings.silentNanos() > 0 && now - lastReceived >= settings.silentNanos()) {
            fail(new PortException("link closed", "silent link"), TunnelOutcome.GENERAL_FAILURE,
                    "the peer went silent", false);
            return;
        }
        if (settings.unusedNanos() > 0 && load() == 0 && now - idleSince >= settings.unusedNanos()) {
            if (acceptor == null || !acceptor.inUseWithoutStreams(this)) {
                closeWithError(Frames.ERROR_OVERLOADED, "idle link closed");
                return;
            }
            idleSince = now;
        }
        if (pingSentAt != 0 && now - pingSentAt >= settings.pongNanos()) {
            fail(new PortException("link closed", "no PONG"), TunnelOutcome.GENERAL_FAILURE,
                    "the link did not answer its ping", false);
            return;
        }
        if (settings.pingNanos() > 0 && pingSentAt == 0 && now - lastPing >= settings.pingNanos()) {
            lastPing = now;
            pingSentAt = now;
            sendControl(Frames.frame(Frames.PING, 0, ByteBuffer.allocate(8).putLong(now).array()));
        }
        scheduleKeepalive();
    }

    // ---- closing ----

    /** Sends ERROR {@code code} and closes once it is out. Loop only. */
    public void closeWithError(int code, String message) {
        if (closed || closing) {
            return;
        }
        sendControl(Frames.error(code, message));
        closeAfterFlush(message);
    }

    private void protocolError(LinkProtocolException e) {
        if (closed) {
            return;
        }
        sendControl(Frames.error(e.errorCode(), e.getMessage()));
        failStreams(new PortException("link protocol error", e.getMessage()));
        closeAfterFlush("link protocol error: " + e.getMessage());
    }

    /** Closes once the frames queued so far are out, at most after the linger time. Loop only. */
    public void closeAfterFlush(String reason) {
        if (closed || closing) {
            return;
        }
        closing = true;
        closeReason = reason;
        failStreams(new PortException("link closed", reason));
        failOpening(TunnelOutcome.GENERAL_FAILURE, reason);
        boolean drained;
        try {
            drained = flushOutput();
        } catch (IOException e) {
            finish(true);
            return;
        }
        if (linger != null) {
            linger.cancel();
        }
        if (drained) {
            finish(false);
        } else {
            linger = loop.schedule(settings.lingerNanos(), () -> finish(true));
            updateInterest();
        }
    }

    /** Ends the session at once, cleanly: streams are told by a {@link PortException}. Loop only. */
    public void close(String reason) {
        fail(new PortException("link closed", reason), TunnelOutcome.GENERAL_FAILURE, reason, false);
    }

    private void writeFailed(IOException e) {
        fail(new PortException("reset", "link write failed"), TunnelOutcome.GENERAL_FAILURE,
                "link write failed: " + e.getMessage(), true);
    }

    private void fail(Throwable streamCause, TunnelOutcome openOutcome, String reason, boolean reset) {
        if (closed) {
            return;
        }
        closeReason = reason;
        failStreams(streamCause);
        failOpening(openOutcome, reason);
        finish(reset);
    }

    private void failStreams(Throwable cause) {
        accepting.clear();
        if (streams.isEmpty()) {
            return;
        }
        List<LinkStream> open = new ArrayList<>(streams.values());
        streams.clear();
        grown = 0;
        writeQueue.clear();
        dataStream = null;
        for (LinkStream stream : open) {
            stream.closed = true;
            stream.discard(pool);
            stream.failed(cause);
        }
    }

    private void failOpening(TunnelOutcome outcome, String reason) {
        if (opening.isEmpty()) {
            return;
        }
        List<OpenCallback> waiting = new ArrayList<>(opening.values());
        opening.clear();
        // Never answered: the client has been told nothing yet, so another link may carry it (a remote that died
        // between two of a local's links, as behind a load balancer).
        for (OpenCallback callback : waiting) {
            callback.failed(outcome, reason, true);
        }
    }

    private void finish(boolean reset) {
        if (closed) {
            return;
        }
        closed = true;
        failStreams(new PortException(reset ? "reset" : "link closed", closeReason == null ? "link closed"
                : closeReason));
        failOpening(TunnelOutcome.GENERAL_FAILURE, closeReason == null ? "link closed" : closeReason);
        for (Timer timer : new Timer[] {keepalive, linger}) {
            if (timer != null) {
                timer.cancel();
            }
        }
        if (reset) {
            port.reset();
        } else {
            port.close();
        }
        releaseSpill();
        control.take();
        if (in != null) {
            releaseInput();
        }
        for (LinkStream stream : toDeliver) {
            stream.deliveryQueued = false;
        }
        toDeliver.clear();
        listener.closed(this, closeReason == null ? "closed" : closeReason);
    }

    private static byte[] bytes(ByteBuffer payload) {
        byte[] copy = new byte[payload.remaining()];
        payload.get(copy);
        return copy;
    }
}
