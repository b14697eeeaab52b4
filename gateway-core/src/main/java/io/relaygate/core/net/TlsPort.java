package io.relaygate.core.net;

import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * TLS over another port (a socket), as a port: what the handler reads is the peer's plaintext, what it writes is
 * sent encrypted. The JDK's {@link SSLEngine} runs inside the event loop; its delegated handshake tasks (key
 * generation, certificate checks) run on the bounded executor, never on the loop. Confined to its loop.
 * <p>
 * The handshake runs on its own as soon as the port starts; the handler hears {@code readable} once plaintext can
 * arrive and {@code writable} once it can be sent, so the layers above never see the handshake. At most one TLS
 * record waits in each direction: a write the transport cannot take is kept encrypted and the port takes nothing
 * more until it is out (backpressure as for a socket).
 * <p>
 * Its buffers (ciphertext each way, plaintext not yet read) come from a shared pool of heap buffers when there is
 * something to hold and go back once empty, so an idle link holds none: a remote keeps a few links for every local
 * it serves.
 */
public final class TlsPort implements Port, Port.Handler {

    /**
     * Records of ciphertext a transport read or write takes at most, less one: the one more lets a relay's 64 KiB,
     * a few bytes longer than four records once framed, go out in one system call.
     */
    private static final int RECORDS_PER_IO = 4;
    /** What a buffer the port does not hold reads as: empty. Never written. */
    private static final ByteBuffer NONE = ByteBuffer.allocate(0);

    private final EventLoop loop;
    private final Port transport;
    private final SSLEngine engine;
    private final Executor delegated;
    private final BufferPool records;
    /** The largest record, as the engine says. */
    private final int packetSize;
    /** Ciphertext from the transport, read mode between events; {@link #NONE} when empty. */
    private ByteBuffer netIn = NONE;
    /** Ciphertext for the transport, read mode; {@link #NONE} when nothing waits. */
    private ByteBuffer netOut = NONE;
    /** Plaintext unwrapped but not yet read by the handler, read mode; {@link #NONE} when none waits. */
    private ByteBuffer appIn = NONE;
    private Handler handler;
    private boolean wantRead;
    private boolean wantWrite;
    private boolean handshakeDone;
    private boolean taskRunning;
    private boolean inboundDone;
    private boolean closed;
    private boolean callbackQueued;
    /** Output was shut down while ciphertext still waited: the transport's FIN follows once it is out. */
    private boolean shutdownPending;
    /** What {@code netIn} holds is the start of a record whose rest has not arrived. */
    private boolean partialRecord;
    private final ByteBuffer[] single = new ByteBuffer[1];

    /**
     * @param engine    an engine set to client or server mode, with its protocols (TLS 1.3) and checks
     * @param delegated where the engine's delegated tasks run
     * @param records   heap buffers of at least {@link #bufferBytes} for the engine's session
     * @throws IllegalArgumentException if the pool's buffers are smaller
     */
    public TlsPort(EventLoop loop, Port transport, SSLEngine engine, Executor delegated, BufferPool records) {
        this.loop = loop;
        this.transport = transport;
        this.engine = engine;
        this.delegated = delegated;
        this.records = records;
        SSLSession session = engine.getSession();
        this.packetSize = session.getPacketBufferSize();
        if (records.bufferSize() < bufferBytes(session)) {
            throw new IllegalArgumentException("TLS buffers of " + records.bufferSize() + " bytes, "
                    + bufferBytes(session) + " needed");
        }
    }

    /**
     * {@return the size of the buffers a port needs for {@code session}'s records: several records per transport
     * read and write, since a system call per record costs more than the copy}
     */
    public static int bufferBytes(SSLSession session) {
        return (RECORDS_PER_IO + 1) * Math.max(session.getPacketBufferSize(), session.getApplicationBufferSize());
    }

    /**
     * {@return a pool for the ports of engines made as {@code sample} was, keeping {@code maxPooled} free buffers}
     * Thread-safe; one pool serves every loop.
     */
    public static BufferPool buffers(SSLEngine sample, int maxPooled) {
        return BufferPool.heap(bufferBytes(sample.getSession()), maxPooled);
    }

    /** Takes over the transport and starts the handshake; a failure reaches the handler. Loop only. */
    public void start() {
        transport.handler(this);
        try {
            engine.beginHandshake();
            progress();
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    /** {@return the TLS session, with the peer's certificates once the handshake is done} */
    public SSLSession session() {
        return engine.getSession();
    }

    @Override
    public void handler(Handler handler) {
        this.handler = handler;
    }

    // ---- the port the layers above see ----

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (closed) {
            throw new PortException("reset", "the TLS port is closed");
        }
        int n = 0;
        // As many records as the transport holds now, so a relay's read is as large as a socket's would be.
        while (dst.hasRemaining() && handshakeDone) {
            if (!appIn.hasRemaining()) {
                fill();
                if (!appIn.hasRemaining()) {
                    break;
                }
            }
            int chunk = Math.min(dst.remaining(), appIn.remaining());
            int limit = appIn.limit();
            appIn.limit(appIn.position() + chunk);
            dst.put(appIn);
            appIn.limit(limit);
            n += chunk;
        }
        releaseEmpty();
        return n == 0 && inboundDone && !appIn.hasRemaining() ? -1 : n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        single[0] = src;
        try {
            return (int) write(single);
        } finally {
            single[0] = null;
        }
    }

    /**
     * Encrypts what the transport takes now, record after record, as one stream of plaintext: a frame header and its
     * payload become one record, not two.
     */
    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        if (closed) {
            throw new PortException("reset", "the TLS port is closed");
        }
        if (!handshakeDone) {
            return 0;
        }
        long taken = 0;
        while (remaining(srcs)) {
            if (freeOut() < packetSize) {
                flushNetOut();
                if (freeOut() < packetSize) {
                    break;                  // the transport is full: the rest waits for its readiness
                }
            }
            netOut = held(netOut);
            netOut.compact();
            SSLEngineResult result;
            try {
                result = engine.wrap(srcs, netOut);
            } finally {
                netOut.flip();
            }
            if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
                throw new PortException("reset", "TLS output closed");
            }
            if (result.bytesConsumed() == 0) {
                break;
            }
            taken += result.bytesConsumed();
        }
        flushNetOut();
        // Ciphertext the transport did not take waits for its readiness on its own: the handler saw all of its
        // plaintext taken and has no reason to ask for write readiness.
        updateTransportInterest();
        return taken;
    }

    /** {@return the room for ciphertext in the output buffer, once what waits in it is moved to its start} */
    private int freeOut() {
        return netOut == NONE ? records.bufferSize() : netOut.capacity() - netOut.remaining();
    }

    private static boolean remaining(ByteBuffer[] buffers) {
        for (ByteBuffer buffer : buffers) {
            if (buffer.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void shutdownOutput() throws IOException {
        engine.closeOutbound();
        wrapHandshake();
        shutdownPending = true;
        if (flushNetOut()) {
            finishShutdown();
        } else {
            updateTransportInterest();      // the close_notify goes out first, then the FIN
        }
    }

    private void finishShutdown() throws IOException {
        if (shutdownPending) {
            shutdownPending = false;
            transport.shutdownOutput();
        }
    }

    @Override
    public void interest(boolean read, boolean write) {
        wantRead = read;
        wantWrite = write;
        if (closed) {
            return;
        }
        if (handshakeDone && ((read && readableNow()) || (write && !netOut.hasRemaining()))) {
            queueCallback();        // ready now: the transport would not say so
        }
        updateTransportInterest();
    }

    @Override
    public void close() {
        if (!closed) {
            try {
                engine.closeOutbound();
                wrapHandshake();
                flushNetOut();      // close_notify, best effort
            } catch (IOException | RuntimeException e) {
                // closing anyway
            }
            closed = true;
            transport.close();
            releaseAll();
        }
    }

    @Override
    public void reset() {
        if (!closed) {
            closed = true;
            transport.reset();
            releaseAll();
        }
    }

    // ---- the transport's readiness ----

    @Override
    public void readable() throws IOException {
        if (closed) {
            return;
        }
        if (!handshakeDone) {
            progress();
            return;
        }
        if (wantRead && handler != null) {
            handler.readable();
        }
    }

    @Override
    public void writable() throws IOException {
        if (closed) {
            return;
        }
        if (!flushNetOut()) {
            updateTransportInterest();
            return;
        }
        finishShutdown();
        if (!handshakeDone) {
            progress();
            return;
        }
        updateTransportInterest();
        if (wantWrite && handler != null) {
            handler.writable();
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (handler != null) {
            handler.failed(cause);
        } else {
            reset();
        }
    }

    // ---- the handshake ----

    /** Drives the handshake as far as it goes now; once done, tells the handler it may read and write. */
    private void progress() throws IOException {
        try {
            advance();
            releaseEmpty();
        } catch (SSLException e) {
            // The engine has an alert for the peer: send it if the socket takes it, so the peer learns why.
            try {
                wrapHandshake();
                flushNetOut();
            } catch (IOException | RuntimeException ignored) {
                // the failure below says it all
            }
            throw e;
        }
    }

    private void advance() throws IOException {
        while (!closed && !taskRunning) {
            HandshakeStatus status = engine.getHandshakeStatus();
            switch (status) {
                case NEED_TASK -> {
                    runDelegatedTasks();
                    return;
                }
                case NEED_WRAP -> {
                    wrapHandshake();
                    if (!flushNetOut()) {
                        updateTransportInterest();
                        return;
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!unwrapOnce()) {
                        updateTransportInterest();
                        return;
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> {
                    if (!handshakeDone && (engine.isOutboundDone() || engine.isInboundDone())) {
                        // The engine gave up (its alert is out, or could not be sent): never a finished handshake.
                        flushNetOut();
                        throw new SSLException("the TLS handshake failed");
                    }
                    if (!handshakeDone) {
                        handshakeDone = true;
                        updateTransportInterest();
                        if (handler != null && (wantRead || wantWrite)) {
                            queueCallback();
                        }
                    }
                    return;
                }
                default -> throw new SSLException("unexpected handshake status " + status);
            }
        }
    }

    private void runDelegatedTasks() {
        Runnable task = engine.getDelegatedTask();
        if (task == null) {
            return;
        }
        taskRunning = true;
        updateTransportInterest();
        try {
            delegated.execute(() -> {
                for (Runnable next = task; next != null; next = engine.getDelegatedTask()) {
                    next.run();
                }
                loop.execute(this::taskDone);
            });
        } catch (RejectedExecutionException e) {
            taskRunning = false;
            failed(new SSLException("overloaded: the TLS handshake cannot run now"));
        }
    }

    private void taskDone() {
        taskRunning = false;
        if (closed) {
            return;
        }
        try {
            progress();
            if (handshakeDone && handler != null && (wantRead || wantWrite)) {
                queueCallback();        // a post-handshake task held the reads up
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    private void wrapHandshake() throws IOException {
        netOut = held(netOut);
        netOut.compact();
        try {
            SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), netOut);
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                throw new SSLException("TLS output record larger than the packet buffer");
            }
        } finally {
            netOut.flip();
        }
    }

    /**
     * Unwraps one record, reading the transport first if no whole record is buffered.
     *
     * @return whether anything moved (a record consumed, bytes read, the end reached); false when the transport
     *         has nothing now
     */
    private boolean unwrapOnce() throws IOException {
        if (netIn.hasRemaining()) {
            appIn = held(appIn);
            appIn.compact();
            SSLEngineResult result;
            try {
                result = engine.unwrap(netIn, appIn);
            } finally {
                appIn.flip();
            }
            switch (result.getStatus()) {
                case OK -> {
                    partialRecord = false;
                    return true;
                }
                case CLOSED -> {
                    inboundDone = true;
                    return true;
                }
                case BUFFER_OVERFLOW -> {
                    return false;       // plaintext waits to be read first
                }
                case BUFFER_UNDERFLOW -> partialRecord = true;     // the rest of the record: read below
                default -> throw new SSLException("unexpected unwrap status " + result.getStatus());
            }
        }
        if (!netIn.hasRemaining() || netIn.limit() < netIn.capacity() || netIn.position() > 0) {
            netIn = held(netIn);
            netIn.compact();
            int n;
            try {
                n = transport.read(netIn);
            } finally {
                netIn.flip();
            }
            if (n > 0) {
                partialRecord = false;      // the record may be whole now
            }
            if (n < 0) {
                if (!handshakeDone) {
                    throw new SSLException("the peer closed the connection during the TLS handshake");
                }
                inboundDone = true;     // closed without close_notify: the end of stream all the same
                return true;
            }
            return n > 0;
        }
        throw new SSLException("a TLS record larger than the packet buffer");
    }

    /** Unwraps until there is plaintext, the end, or nothing more now; post-handshake messages pass on the way. */
    private void fill() throws IOException {
        while (!appIn.hasRemaining() && !inboundDone && !closed && !taskRunning) {
            HandshakeStatus status = engine.getHandshakeStatus();
            if (status == HandshakeStatus.NEED_TASK) {
                runDelegatedTasks();
                return;
            }
            if (status == HandshakeStatus.NEED_WRAP) {
                wrapHandshake();
                flushNetOut();
                continue;
            }
            if (!unwrapOnce()) {
                return;
            }
        }
    }

    /** {@return whether no ciphertext waits for the transport} */
    private boolean flushNetOut() throws IOException {
        if (netOut.hasRemaining()) {
            transport.write(netOut);
        }
        if (netOut.hasRemaining()) {
            return false;
        }
        netOut = releaseIfEmpty(netOut);
        return true;
    }

    /** {@return {@code buffer}, or a buffer of the pool, empty and in read mode, in place of {@link #NONE}} */
    private ByteBuffer held(ByteBuffer buffer) {
        return buffer != NONE ? buffer : records.acquire().flip();
    }

    /** {@return {@link #NONE} in place of an empty {@code buffer}, which goes back to the pool} */
    private ByteBuffer releaseIfEmpty(ByteBuffer buffer) {
        if (buffer == NONE || buffer.hasRemaining()) {
            return buffer;
        }
        records.release(buffer);
        return NONE;
    }

    private void releaseEmpty() {
        netIn = releaseIfEmpty(netIn);
        appIn = releaseIfEmpty(appIn);
        netOut = releaseIfEmpty(netOut);
    }

    /** Closed: what the buffers hold is dropped. */
    private void releaseAll() {
        for (ByteBuffer buffer : new ByteBuffer[] {netIn, netOut, appIn}) {
            if (buffer != NONE) {
                records.release(buffer);
            }
        }
        netIn = NONE;
        netOut = NONE;
        appIn = NONE;
    }

    private void updateTransportInterest() {
        if (closed) {
            return;
        }
        boolean reading = !taskRunning && (!handshakeDone ? engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP
                : wantRead && !appIn.hasRemaining() && !inboundDone);
        transport.interest(reading, netOut.hasRemaining());
    }

    /**
     * {@return whether a read would find something without the transport: plaintext, the end, or ciphertext that is
     * not just the start of a record still arriving (waiting on that would spin)}
     */
    private boolean readableNow() {
        return appIn.hasRemaining() || inboundDone || (netIn.hasRemaining() && !partialRecord);
    }

    /** Calls the handler from a task: state changed without transport readiness (buffered plaintext, the end). */
    private void queueCallback() {
        if (callbackQueued) {
            return;
        }
        callbackQueued = true;
        loop.execute(() -> {
            callbackQueued = false;
            if (closed || handler == null) {
                return;
            }
            try {
                if (wantWrite && !netOut.hasRemaining()) {
                    handler.writable();
                }
                if (!closed && wantRead && readableNow()) {
                    handler.readable();
                }
            } catch (IOException | RuntimeException e) {
                handler.failed(e);
            }
        });
    }
}
