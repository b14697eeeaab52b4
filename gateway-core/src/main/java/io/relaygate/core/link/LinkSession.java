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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One authenticated link, in either role, from the end of its handshake to its close: the frames after
 * SERVER_OUTCOME, a table of {@link LinkStream}s, keepalive while no stream is open, and the link's output, which
 * its streams share (docs/link-protocol.md). Confined to its loop.
 * <p>
 * Input is read into one pooled buffer and decoded in place: DATA payloads are read by their stream's relay
 * straight from it, so a stream whose relay cannot take its bytes stops the link's reading until it can (one
 * stream per link in version 1; version 2 adds per-stream credit). Output is written straight to the port; a frame
 * the port takes only part of is kept by the session, whole, so each stream's writes are atomic frames and a stream
 * that ends mid-frame cannot corrupt the link. A failure of the link fails every stream with a
 * {@link PortException} naming what happened.
 */
public final class LinkSession implements Port.Handler {

    /** Decides what to do with a stream the peer opens. Called on the session's loop. */
    @FunctionalInterface
    public interface Acceptor {
        /**
         * The peer sent OPEN for {@code stream}: answer later, on the loop, with {@link #accept} or {@link #refuse}.
         * Throwing closes the link.
         */
        void open(LinkSession session, int stream, Destination destination);
    }

    /** The answer to {@link #open}. Called once on the session's loop, unless the session was closed first. */
    public interface OpenCallback {
        void opened(LinkStream stream, InetSocketAddress bound);

        void failed(TunnelOutcome outcome, String reason);
    }

    /** Hears that the session has ended, once. Called on the session's loop. */
    @FunctionalInterface
    public interface CloseListener {
        void closed(LinkSession session, String reason);
    }

    /**
     * How a session behaves.
     *
     * @param client      whether this side opens odd stream numbers (the local role)
     * @param pingNanos   while no stream is open, send a PING this often (0: never)
     * @param pongNanos   the time a PING has to be answered
     * @param silentNanos while no stream is open, close a link the peer has sent nothing on for this long (0: never)
     * @param unusedNanos close a link that has carried no stream for this long, with ERROR 4 (0: never)
     * @param lingerNanos the longest a closing link waits for its last frames to go out
     */
    public record Settings(boolean client, long pingNanos, long pongNanos, long silentNanos, long unusedNanos,
                           long lingerNanos) {
    }

    /** Version 1: one stream per link, number 1, opened by the local; the link ends with it. */
    private static final int ONLY_STREAM = 1;

    private final EventLoop loop;
    private final Port port;
    private final BufferPool pool;
    private final Settings settings;
    private final Acceptor acceptor;
    private final CloseListener listener;
    private final FrameReader reader = new FrameReader();
    private final Map<Integer, LinkStream> streams = new HashMap<>(4);
    private final Map<Integer, OpenCallback> opening = new HashMap<>(4);
    private final SplittableRandom random = new SplittableRandom();

    // input: read mode between events; null while empty
    private ByteBuffer in;
    /** Whether the input buffer is the pool's: not when the pool's buffers are too small for a control frame. */
    private final boolean inputPooled;
    private LinkStream dataStream;
    private int dataRemaining;
    private boolean decoding;
    private boolean stalled;
    private boolean resumeScheduled;

    // output: a frame the port took part of (pooled or heap), then control frames; streams waiting to write
    private final ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_BYTES);
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private ByteBuffer spill;
    private boolean spillPooled;
    private final PendingWrites control = new PendingWrites();
    private final List<LinkStream> waitingToWrite = new ArrayList<>(2);

    /** The highest stream number opened so far by either side: frames for a lower one that is gone are dropped. */
    private int highestOpened;
    /** Streams the peer opened that the acceptor has not answered yet. */
    private int accepting;
    private long lastReceived;
    private long idleSince;
    private Timer keepalive;
    private Timer pongDeadline;
    private Timer linger;
    private boolean closing;
    private boolean closed;
    /** Why the session ended or is ending, for the close listener and the streams. */
    private String closeReason;

    /**
     * @param leftover link bytes the handshake read past its last frame (read mode), or null
     * @param acceptor what to do with streams the peer opens, or null to refuse them
     */
    public LinkSession(EventLoop loop, Port port, BufferPool pool, Settings settings, ByteBuffer leftover,
                       Acceptor acceptor, CloseListener listener) {
        this.loop = loop;
        this.port = port;
        this.pool = pool;
        this.settings = settings;
        this.acceptor = acceptor;
        this.listener = listener;
        this.inputPooled = pool.bufferSize() >= Frames.CONTROL_BUFFER_BYTES;
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
        }
        updateInterest();
    }

    /** {@return whether the session has ended} */
    public boolean isClosed() {
        return closed;
    }

    /** {@return whether the session can open a stream now} */
    public boolean canOpen() {
        return !closing && !closed && highestOpened == 0;
    }

    // ---- opening streams ----

    /** Asks the peer to open a stream to {@code destination}. Loop only; requires {@link #canOpen()}. */
    public void open(Destination destination, OpenCallback callback) {
        if (!canOpen()) {
            throw new IllegalStateException("version 1 opens one stream per link");
        }
        int id = ONLY_STREAM;
        highestOpened = id;
        opening.put(id, callback);
        idleChanged();
        sendControl(Frames.frame(Frames.OPEN, id, LinkMessages.open(destination)));
    }

    /**
     * Accepts a stream the peer opened: OPEN_RESULT ok, then its bytes. Loop only.
     *
     * @return the stream, or null if the link is closing meanwhile (the acceptor closes what it opened for it)
     */
    public LinkStream accept(int id, InetSocketAddress bound) {
        accepting--;
        if (closed || closing) {
            return null;
        }
        LinkStream stream = new LinkStream(this, id);
        streams.put(id, stream);
        sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(TunnelOutcome.OK, bound)));
        return stream;
    }

    /** Refuses a stream the peer opened with {@code outcome}; version 1 then closes the link. Loop only. */
    public void refuse(int id, TunnelOutcome outcome) {
        accepting--;
        if (closed) {
            return;
        }
        sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(outcome, null)));
        closeAfterFlush("stream refused");
    }

    // ---- the port's readiness ----

    @Override
    public void readable() throws IOException {
        for (int reads = 0; reads < 16 && !closed && !stalled && !closing; reads++) {
            if (in == null) {
                in = acquireInput().flip();
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
            lastReceived = loop.now();
            decodeSafely();
        }
        releaseInputIfEmpty();
        updateInterest();
    }

    @Override
    public void writable() throws IOException {
        if (closed) {
            return;
        }
        if (flushOutput()) {
            if (closing) {
                finish(false);
                return;
            }
            wakeWriters();
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
        stalled = false;
        try {
            while (!closed && in != null && in.hasRemaining()) {
                if (dataRemaining > 0) {
                    if (!deliver()) {
                        stalled = true;
                        return;
                    }
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

    /** Hands the head DATA payload to its stream. {@return false when the stream cannot take it now} */
    private boolean deliver() throws IOException {
        if (dataStream == null) {
            int skip = Math.min(dataRemaining, in.remaining());     // a stream that is gone: drop its bytes
            in.position(in.position() + skip);
            dataRemaining -= skip;
            return true;
        }
        if (!dataStream.wantsRead()) {
            return false;
        }
        int before = dataRemaining;
        dataStream.readable();
        return dataRemaining < before || dataStream == null || closed;
    }

    private void data(int id, int length) throws LinkProtocolException {
        LinkStream stream = streams.get(id);
        if (stream == null && notOpened(id)) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "DATA on stream " + id + ", which is not open");
        }
        if (stream != null && stream.finReceived) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "DATA after FIN on stream " + id);
        }
        reader.skipHeader(in);
        dataStream = stream;
        dataRemaining = length;
    }

    /** {@return whether no stream {@code id} was ever opened on this link: a frame for it is a violation} */
    private boolean notOpened(int id) {
        return id == 0 || id > highestOpened;
    }

    private void control(int type, int id, ByteBuffer payload) throws IOException, LinkProtocolException {
        switch (type) {
            case Frames.OPEN -> peerOpened(id, payload);
            case Frames.OPEN_RESULT -> openResult(id, payload);
            case Frames.FIN -> {
                LinkStream stream = streams.get(id);
                if (stream != null && !stream.finReceived) {
                    stream.finReceived = true;
                    if (stream.wantsRead()) {
                        stream.readable();      // it reads the end of stream now; otherwise when it reads next
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
                } else if (notOpened(id)) {
                    throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "RST on stream " + id + ", not open");
                }
            }
            case Frames.WINDOW -> {
                // credit is for multiplexed links (version 2); version 1 ignores it
            }
            case Frames.PING -> sendControl(Frames.frame(Frames.PONG, 0, bytes(payload)));
            case Frames.PONG -> {
                if (pongDeadline != null) {
                    pongDeadline.cancel();
                    pongDeadline = null;
                }
            }
            case Frames.ERROR -> {
                int code = payload.remaining() >= 2 ? payload.getShort() & 0xFFFF : 0;
                fail(new PortException("link error", "ERROR " + code + " on the link"),
                        code == Frames.ERROR_AUTHENTICATION ? TunnelOutcome.LINK_AUTH_FAILED
                                : TunnelOutcome.GENERAL_FAILURE, "the remote gateway sent ERROR " + code, false);
            }
            default -> throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "unexpected frame type " + type
                    + " on an open link");
        }
    }

    private void peerOpened(int id, ByteBuffer payload) throws LinkProtocolException {
        boolean peersNumber = settings.client() ? id % 2 == 0 : id % 2 == 1;
        if (!peersNumber || id <= highestOpened) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN on stream " + id + ", which the peer may"
                    + " not open");
        }
        if (acceptor == null) {
            // This side accepts no streams (the local in version 1): a polite refusal keeps the link.
            highestOpened = id;
            sendControl(Frames.frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(TunnelOutcome.NOT_ALLOWED,
                    null)));
            return;
        }
        if (id != ONLY_STREAM) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "version 1 opens stream 1 only, once");
        }
        Destination destination = LinkMessages.open(payload);
        highestOpened = id;
        accepting++;
        idleChanged();
        acceptor.open(this, id, destination);
    }

    private void openResult(int id, ByteBuffer payload) throws LinkProtocolException {
        OpenCallback callback = opening.remove(id);
        if (callback == null) {
            throw new LinkProtocolException(Frames.ERROR_PROTOCOL, "OPEN_RESULT for stream " + id
                    + ", which was not opened");
        }
        LinkMessages.OpenResult result = LinkMessages.openResult(payload);
        if (result.outcome() != TunnelOutcome.OK) {
            callback.failed(result.outcome(), "the remote gateway answered " + result.outcome());
            closeAfterFlush("stream refused");
            return;
        }
        LinkStream stream = new LinkStream(this, id);
        streams.put(id, stream);
        callback.opened(stream, result.bound());
    }

    /** {@return bytes of the head DATA payload for {@code stream} into {@code dst}; -1 after its FIN} */
    int read(LinkStream stream, ByteBuffer dst) {
        if (stream != dataStream || dataRemaining == 0 || in == null || !in.hasRemaining()) {
            return stream.finReceived ? -1 : 0;
        }
        int n = Math.min(dst.remaining(), Math.min(dataRemaining, in.remaining()));
        int limit = in.limit();
        in.limit(in.position() + n);
        dst.put(in);
        in.limit(limit);
        dataRemaining -= n;
        if (!decoding && (dataRemaining == 0 || !in.hasRemaining())) {
            scheduleResume();       // read outside a decode (the relay resumed): the link can go on
        }
        return n;
    }

    /** The stream wants to read again: if its bytes are what stopped the link, go on decoding soon. */
    void readWanted(LinkStream stream) {
        if (stalled && stream == dataStream) {
            scheduleResume();
        }
    }

    private void scheduleResume() {
        if (!resumeScheduled && !closed) {
            resumeScheduled = true;
            loop.execute(this::resume);
        }
    }

    private void resume() {
        resumeScheduled = false;
        if (closed) {
            return;
        }
        decodeSafely();
        releaseInputIfEmpty();
        updateInterest();
    }

    private void ended() {
        String reason = "the peer closed the link";
        fail(new PortException("link closed", "link closed mid-stream"), TunnelOutcome.GENERAL_FAILURE, reason, false);
    }

    // ---- output ----

    /** Writes one stream's bytes as DATA frames. {@return the bytes taken} */
    int write(LinkStream stream, ByteBuffer src) throws IOException {
        if (closed || closing) {
            throw new PortException("link closed", "the link is closing");
        }
        if (!flushOutput()) {
            return 0;
        }
        int taken = 0;
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), Frames.MAX_PAYLOAD);
            header.clear();
            header.putInt(n).put((byte) Frames.DATA).put((byte) 0).putInt(stream.id).flip();
            int start = src.position();
            int limit = src.limit();
            src.limit(start + n);
            try {
                gather[0] = header;
                gather[1] = src;
                port.write(gather);
                if (header.hasRemaining() || src.hasRemaining()) {
                    spill(src);         // the frame is the session's now: it goes out whole
                }
            } finally {
                gather[1] = null;
                src.limit(limit);
            }
            src.position(start + n);
            taken += n;
            if (spill != null) {
                updateInterest();
                break;
            }
        }
        return taken;
    }

    private void spill(ByteBuffer src) {
        int size = header.remaining() + src.remaining();
        spillPooled = size <= pool.bufferSize();
        spill = spillPooled ? pool.acquire() : ByteBuffer.allocate(size);
        spill.put(header).put(src).flip();
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

    /** A stream found the link busy: it hears {@link Port.Handler#writable()} once the session's output drained. */
    void writeWanted(LinkStream stream) {
        if (!waitingToWrite.contains(stream)) {
            waitingToWrite.add(stream);
        }
        if (spill == null && control.isEmpty()) {
            loop.execute(this::wakeWritersSafely);      // drained meanwhile: no write readiness will come
        }
        updateInterest();
    }

    private void wakeWritersSafely() {
        if (!closed) {
            try {
                wakeWriters();
            } catch (IOException e) {
                writeFailed(e);
            }
        }
    }

    private void wakeWriters() throws IOException {
        if (waitingToWrite.isEmpty()) {
            return;
        }
        List<LinkStream> ready = new ArrayList<>(waitingToWrite);
        waitingToWrite.clear();
        for (LinkStream stream : ready) {
            if (closed || spill != null || !control.isEmpty()) {
                waitingToWrite.add(stream);         // the link filled up again: wait for the next drain
            } else if (stream.wantsWrite()) {
                stream.writable();
            }
        }
    }

    private void updateInterest() {
        if (closed) {
            return;
        }
        boolean reading = !stalled && !closing && (in == null || in.remaining() < in.capacity());
        boolean writing = spill != null || !control.isEmpty();
        port.interest(reading, writing);
    }

    private ByteBuffer acquireInput() {
        return inputPooled ? pool.acquire() : ByteBuffer.allocate(Frames.CONTROL_BUFFER_BYTES);
    }

    private void releaseInputIfEmpty() {
        if (in != null && !in.hasRemaining()) {
            releaseInput();
        }
    }

    private void releaseInput() {
        if (inputPooled) {
            pool.release(in);
        }
        in = null;
    }

    // ---- streams ending ----

    /** A stream's output ended cleanly: FIN. */
    void fin(LinkStream stream) throws IOException {
        if (closed || closing) {
            throw new PortException("link closed", "the link is closing");
        }
        sendControl(Frames.frame(Frames.FIN, stream.id, new byte[0]));
    }

    /**
     * A stream ended, cleanly or with a reset the peer is told of: forgotten; version 1 then ends the link with it,
     * cleanly unless {@code reset}.
     */
    void streamClosed(LinkStream stream, boolean reset) {
        if (closed) {
            return;
        }
        boolean wasOpen = streams.get(stream.id) == stream;
        if (wasOpen) {
            forget(stream);
            if (reset) {
                sendControl(Frames.frame(Frames.RST, stream.id, new byte[0]));
            }
        }
        if (streams.isEmpty() && accepting == 0 && opening.isEmpty()) {
            if (reset) {
                closeReason = "stream reset";
                finish(true);
            } else {
                closeAfterFlush("stream ended");
            }
        }
    }

    private void forget(LinkStream stream) {
        streams.remove(stream.id);
        waitingToWrite.remove(stream);
        if (dataStream == stream) {
            dataStream = null;      // the rest of its payload is dropped
        }
        idleChanged();
    }

    // ---- keepalive ----

    private void idleChanged() {
        if (streams.isEmpty() && opening.isEmpty() && accepting == 0) {
            idleSince = loop.now();
            scheduleKeepalive();
        } else if (keepalive != null) {
            keepalive.cancel();
            keepalive = null;
            if (pongDeadline != null) {
                pongDeadline.cancel();
                pongDeadline = null;
            }
        }
    }

    private void scheduleKeepalive() {
        long next = Long.MAX_VALUE;
        if (settings.pingNanos() > 0) {
            next = settings.pingNanos();
        }
        if (settings.silentNanos() > 0) {
            next = Math.min(next, settings.silentNanos());
        }
        if (settings.unusedNanos() > 0) {
            next = Math.min(next, settings.unusedNanos());
        }
        if (next != Long.MAX_VALUE && !closed) {
            if (keepalive != null) {
                keepalive.cancel();
            }
            keepalive = loop.schedule(next, this::keepaliveDue);
        }
    }

    private void keepaliveDue() {
        keepalive = null;
        if (closed || closing || !streams.isEmpty() || !opening.isEmpty() || accepting > 0) {
            return;
        }
        long now = System.nanoTime();
        if (settings.silentNanos() > 0 && now - lastReceived >= settings.silentNanos()) {
            fail(new PortException("link closed", "silent link"), TunnelOutcome.GENERAL_FAILURE,
                    "the peer went silent", false);
            return;
        }
        if (settings.unusedNanos() > 0 && now - idleSince >= settings.unusedNanos()) {
            closeWithError(Frames.ERROR_OVERLOADED, "idle link closed");
            return;
        }
        if (settings.pingNanos() > 0) {
            byte[] token = new byte[8];
            random.nextBytes(token);
            sendControl(Frames.frame(Frames.PING, 0, token));
            if (pongDeadline == null) {
                pongDeadline = loop.schedule(settings.pongNanos(), () -> fail(new PortException("link closed",
                        "no PONG"), TunnelOutcome.GENERAL_FAILURE, "an idle link did not answer its ping", false));
            }
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
        if (streams.isEmpty()) {
            return;
        }
        List<LinkStream> open = new ArrayList<>(streams.values());
        streams.clear();
        waitingToWrite.clear();
        dataStream = null;
        for (LinkStream stream : open) {
            stream.closed = true;
            stream.failed(cause);
        }
    }

    private void failOpening(TunnelOutcome outcome, String reason) {
        if (opening.isEmpty()) {
            return;
        }
        List<OpenCallback> waiting = new ArrayList<>(opening.values());
        opening.clear();
        for (OpenCallback callback : waiting) {
            callback.failed(outcome, reason);
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
        for (Timer timer : new Timer[] {keepalive, pongDeadline, linger}) {
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
        listener.closed(this, closeReason == null ? "closed" : closeReason);
    }

    private static byte[] bytes(ByteBuffer payload) {
        byte[] copy = new byte[payload.remaining()];
        payload.get(copy);
        return copy;
    }
}
