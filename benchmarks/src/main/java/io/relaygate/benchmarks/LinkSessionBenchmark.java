package io.relaygate.benchmarks;

import io.relaygate.core.link.LinkSession;
import io.relaygate.core.link.StreamWindows;
import io.relaygate.core.link.LinkStream;
import io.relaygate.core.net.Port;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The link session without sockets, on a real event loop, each operation moving 16 MiB, against copying the same
 * bytes (the floor any framing pays), in the same run:
 * <ul>
 *   <li>{@code decode}: 16 MiB of DATA frames (16 KiB payloads, round robin over the streams) read by a remote's
 *       session into relays that take everything; {@code copyBaseline} copies the same bytes in 64 KiB reads.</li>
 *   <li>{@code schedule}: the streams of a local's session each write their share while the link takes 256 KiB per
 *       readiness, as a socket buffer does, so the streams take turns through the write scheduler;
 *       {@code copyBaseline} again.</li>
 * </ul>
 * Score: operations per second; MiB/s = 16 × score.
 */
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Dlogback.configurationFile=benchmark-logback.xml")
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class LinkSessionBenchmark {

    private static final int TOTAL = 16 << 20;
    private static final int PAYLOAD = 16 * 1024;
    private static final int DRAIN = 256 * 1024;
    private static final InetSocketAddress BOUND = new InetSocketAddress("127.0.0.1", 1);

    @Param({"1", "16", "1000"})
    public int streams;

    private EventLoop loop;
    private final BufferPool pool = new BufferPool(64 * 1024, 4096);
    private BenchPort serverPort;
    private BenchPort clientPort;
    private LinkSession client;
    private final List<Writer> writers = new ArrayList<>();
    private byte[] dataFrames;
    private final ByteBuffer copyTarget = ByteBuffer.allocateDirect(64 * 1024);
    private final byte[] copySource = new byte[TOTAL];

    @Setup(Level.Trial)
    public void start() throws Exception {
        loop = new EventLoop("link-bench");
        // The remote's side: it accepts every stream into a relay that reads everything.
        serverPort = new BenchPort();
        LinkSession server = new LinkSession(loop, serverPort, pool, new LinkSession.Settings(false, 0, 0, 0, 0,
                1_000_000_000L, 4096, StreamWindows.fixed(1 << 20)), 4096, null,
                (session, id, destination) -> new Reader(session.accept(id, BOUND)), (s, reason) -> { });
        ByteArrayOutputStream opens = new ByteArrayOutputStream();
        for (int i = 0; i < streams; i++) {
            opens.writeBytes(bytes(Frames.frame(Frames.OPEN, 2 * i + 1, LinkMessages.open(1 << 20,
                    Destination.parse("10.0.0.1", 80)))));
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream(TOTAL + TOTAL / 1000);
        byte[] payload = new byte[PAYLOAD];
        for (int i = 0; i < TOTAL / PAYLOAD; i++) {
            data.writeBytes(bytes(Frames.frame(Frames.DATA, 2 * (i % streams) + 1, payload)));
        }
        dataFrames = data.toByteArray();
        onLoop(() -> {
            server.start(null);
            serverPort.feed(opens.toByteArray());
            return null;
        });

        // The local's side: its streams write, granted all the credit they need.
        clientPort = new BenchPort();
        client = new LinkSession(loop, clientPort, pool, new LinkSession.Settings(true, 0, 0, 0, 0, 1_000_000_000L,
                4096, StreamWindows.fixed(1 << 20)), 4096, null, null, (s, reason) -> { });
        onLoop(() -> {
            client.start(null);
            for (int i = 0; i < streams; i++) {
                Writer writer = new Writer();
                writers.add(writer);
                client.open(Destination.parse("10.0.0.1", 80), writer);
                clientPort.feed(bytes(Frames.frame(Frames.OPEN_RESULT, 2 * i + 1,
                        LinkMessages.openResult(TunnelOutcome.OK, Integer.MAX_VALUE / 2, BOUND))));
            }
            return null;
        });
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        loop.shutdown();
        loop.awaitTermination(5, TimeUnit.SECONDS);
    }

    @Benchmark
    public long decode() throws Exception {
        return onLoop(() -> {
            serverPort.feed(dataFrames);
            return serverPort.read;
        });
    }

    @Benchmark
    public long schedule() throws Exception {
        return onLoop(() -> {
            int share = TOTAL / streams;
            long before = clientPort.written;
            clientPort.budget = 0;                      // the link is busy: every stream queues for a turn
            for (Writer writer : writers) {
                writer.give(share);
            }
            while (clientPort.written - before < (long) share * streams) {
                clientPort.budget = DRAIN;
                clientPort.handler.writable();
            }
            for (int i = 0; i < streams; i++) {         // the peer grants back what it received
                clientPort.feed(bytes(Frames.frame(Frames.WINDOW, 2 * i + 1, ByteBuffer.allocate(4).putInt(share)
                        .array())));
            }
            return clientPort.written;
        });
    }

    @Benchmark
    public long copyBaseline() {
        long moved = 0;
        for (int at = 0; at < TOTAL; at += copyTarget.capacity()) {
            copyTarget.clear();
            copyTarget.put(copySource, at, copyTarget.capacity());
            moved += copyTarget.position();
        }
        return moved;
    }

    private <T> T onLoop(Callable<T> step) throws Exception {
        CompletableFuture<T> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                done.complete(step.call());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done.get(60, TimeUnit.SECONDS);
    }

    private static byte[] bytes(ByteBuffer frame) {
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        return bytes;
    }

    /** A relay that reads everything its stream gets. */
    private static final class Reader implements Port.Handler {
        private final LinkStream stream;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);

        Reader(LinkStream stream) {
            this.stream = stream;
            stream.handler(this);
            stream.interest(true, false);
        }

        @Override
        public void readable() throws IOException {
            while (stream.read(buffer.clear()) > 0) {
                // taken
            }
        }

        @Override
        public void writable() {
        }

        @Override
        public void failed(Throwable cause) {
            throw new IllegalStateException(cause);
        }
    }

    /** A relay with bytes to write whenever it is given some. */
    private static final class Writer implements Port.Handler, LinkSession.OpenCallback {
        private static final ByteBuffer SOURCE = ByteBuffer.allocateDirect(TOTAL);
        private LinkStream stream;
        private ByteBuffer pending;

        @Override
        public void opened(LinkStream linkStream, InetSocketAddress bound) {
            stream = linkStream;
            stream.handler(this);
        }

        @Override
        public void failed(TunnelOutcome outcome, String reason, boolean retry) {
            throw new IllegalStateException(reason);
        }

        void give(int bytes) throws IOException {
            pending = SOURCE.duplicate().clear().limit(bytes);
            writable();
        }

        @Override
        public void readable() {
        }

        @Override
        public void writable() throws IOException {
            stream.write(pending);
            stream.interest(false, pending.hasRemaining());
        }

        @Override
        public void failed(Throwable cause) {
            throw new IllegalStateException(cause);
        }
    }

    /** A socket in memory: reads what is fed, counts what is written, up to a budget per readiness. */
    private static final class BenchPort implements Port {
        private final ArrayDeque<ByteBuffer> input = new ArrayDeque<>();
        Handler handler;
        boolean wantRead;
        long budget = Long.MAX_VALUE;
        long written;
        long read;

        void feed(byte[] bytes) throws IOException {
            input.add(ByteBuffer.wrap(bytes));
            while (wantRead && !input.isEmpty()) {
                handler.readable();
            }
        }

        @Override
        public void handler(Handler handler) {
            this.handler = handler;
        }

        @Override
        public int read(ByteBuffer dst) {
            int n = 0;
            while (dst.hasRemaining() && !input.isEmpty()) {
                ByteBuffer head = input.peek();
                int chunk = Math.min(dst.remaining(), head.remaining());
                dst.put(head.slice(head.position(), chunk));
                head.position(head.position() + chunk);
                n += chunk;
                if (!head.hasRemaining()) {
                    input.poll();
                }
            }
            read += n;
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = (int) Math.min(src.remaining(), budget);
            src.position(src.position() + n);
            budget -= n;
            written += n;
            return n;
        }

        @Override
        public void shutdownOutput() {
        }

        @Override
        public void interest(boolean read, boolean write) {
            wantRead = read;
        }

        @Override
        public void close() {
        }

        @Override
        public void reset() {
        }
    }
}
