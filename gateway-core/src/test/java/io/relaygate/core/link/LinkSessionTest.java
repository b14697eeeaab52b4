package io.relaygate.core.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.PortException;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.core.wire.Frames;
import io.relaygate.core.wire.LinkMessages;
import io.relaygate.spi.Destination;
import io.relaygate.spi.TunnelOutcome;
import io.relaygate.testkit.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The link session on its own, over a port in memory: frames fed at every split point, flow control both ways, a
 * stalled stream beside a live one, turns between writers, every protocol violation, the peer's reset, GOAWAY, the
 * link's end, keepalive. Everything runs on a real event loop.
 */
@Timeout(60)
class LinkSessionTest {

    private static final InetSocketAddress BOUND = new InetSocketAddress("127.0.0.1", 1234);
    private static final byte[] PING_TOKEN = {1, 2, 3, 4, 5, 6, 7, 8};
    /** The window each side grants per stream in these tests: small, so flow control shows. */
    private static final int WINDOW = 1024;

    private EventLoop loop;
    private final BufferPool pool = new BufferPool(16 * 1024, 64);

    @BeforeEach
    void startLoop() {
        loop = new EventLoop("link-session-test");
    }

    @AfterEach
    void stopLoop() throws InterruptedException {
        loop.shutdown();
        loop.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** A relay's end of a stream, reduced to collecting what it reads. */
    private static final class Sink implements Port.Handler {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        LinkStream stream;
        boolean paused;
        boolean eof;
        boolean writable;
        Throwable failure;
        int readSize = 7;       // small: a payload takes several reads
        final List<Integer> reads = new ArrayList<>();

        void attach(LinkStream linkStream) {
            stream = linkStream;
            stream.handler(this);
            stream.interest(!paused, false);
        }

        void resume() {
            paused = false;
            stream.interest(true, false);
        }

        @Override
        public void readable() throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(readSize);
            int n;
            while (!paused && (n = stream.read(buffer.clear())) != 0) {
                if (n < 0) {
                    eof = true;
                    break;
                }
                reads.add(n);
                received.write(buffer.array(), 0, n);
            }
            stream.interest(!paused && !eof, false);
        }

        @Override
        public void writable() {
            writable = true;
            stream.interest(!paused && !eof, false);
        }

        @Override
        public void failed(Throwable cause) {
            failure = cause;
        }
    }

    /** A remote's session whose acceptor accepts every stream into the next of {@code sinks}. */
    private LinkSession server(MemoryPort port, List<Sink> sinks, List<String> closes) {
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 0, 1_000_000_000L, 8, StreamWindows.fixed(WINDOW));
        int[] next = {0};
        return new LinkSession(loop, port, pool, settings, 8, null,
                (session, id, destination) -> sinks.get(next[0]++).attach(session.accept(id, BOUND)),
                (session, reason) -> closes.add(reason));
    }

    private LinkSession server(MemoryPort port, Sink sink, List<String> closes) {
        return server(port, List.of(sink), closes);
    }

    /** A local's session that accepts no stream. */
    private LinkSession client(MemoryPort port, List<String> closes) {
        LinkSession.Settings settings = new LinkSession.Settings(true, 0, 0, 0, 0, 1_000_000_000L, 8, StreamWindows.fixed(WINDOW));
        return new LinkSession(loop, port, pool, settings, 8, null, null, (s, reason) -> closes.add(reason));
    }

    /** Opens a stream from {@code session} and answers it as the remote would, granting {@code credit}. */
    private static void openAccepted(LinkSession session, MemoryPort port, int id, int credit, Sink sink)
            throws IOException {
        session.open(Destination.parse("example.com", 443), new LinkSession.OpenCallback() {
            @Override
            public void opened(LinkStream stream, InetSocketAddress bound) {
                sink.attach(stream);
            }

            @Override
            public void failed(TunnelOutcome outcome, String reason, boolean retry) {
                throw new AssertionError(reason);
            }
        });
        port.feed(frame(Frames.OPEN_RESULT, id, LinkMessages.openResult(TunnelOutcome.OK, credit, BOUND)));
    }

    private static byte[] frame(int type, int stream, byte[] payload) {
        ByteBuffer frame = Frames.frame(type, stream, payload);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] open() {
        return open(1);
    }

    private static byte[] open(int stream) {
        return frame(Frames.OPEN, stream, LinkMessages.open(WINDOW, Destination.parse("10.0.0.1", 80)));
    }

    private static byte[] window(int stream, int credit) {
        return frame(Frames.WINDOW, stream, ByteBuffer.allocate(4).putInt(credit).array());
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A frame the session wrote. */
    private record Written(int type, int stream, byte[] payload) {
    }

    private static List<Written> frames(byte[] bytes) {
        return frames(bytes, true);
    }

    /** @param whole whether the output must end on a frame boundary; otherwise a frame still going out is left */
    private static List<Written> frames(byte[] bytes, boolean whole) {
        List<Written> frames = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.remaining() >= Frames.HEADER_BYTES) {
            if (!whole && in.getInt(in.position()) > in.remaining() - Frames.HEADER_BYTES) {
                return frames;
            }
            int length = in.getInt();
            int type = in.get() & 0xFF;
            in.get();
            int stream = in.getInt();
            byte[] payload = new byte[length];
            in.get(payload);
            frames.add(new Written(type, stream, payload));
        }
        assertThat(in.hasRemaining()).as("the output ends on a frame boundary").isFalse();
        return frames;
    }

    private void onLoop(IoStep step) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                step.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        done.get(10, TimeUnit.SECONDS);
    }

    @FunctionalInterface
    private interface IoStep {
        void run() throws Exception;
    }

    @Test
    void framesSplitAtEveryPointReadTheSame() throws Exception {
        byte[] link = concat(open(), frame(Frames.DATA, 1, text("hello ")), frame(Frames.PING, 0, PING_TOKEN),
                frame(Frames.DATA, 1, text("world")), frame(Frames.FIN, 1, new byte[0]));
        List<byte[][]> splits = new ArrayList<>();
        for (int at = 0; at <= link.length; at++) {
            splits.add(new byte[][] {Arrays.copyOfRange(link, 0, at), Arrays.copyOfRange(link, at, link.length)});
        }
        byte[][] bytewise = new byte[link.length][];
        for (int i = 0; i < link.length; i++) {
            bytewise[i] = new byte[] {link[i]};
        }
        splits.add(bytewise);
        for (byte[][] chunks : splits) {
            MemoryPort port = new MemoryPort();
            Sink sink = new Sink();
            LinkSession session = server(port, sink, new ArrayList<>());
            onLoop(() -> {
                session.start(null);
                for (byte[] chunk : chunks) {
                    port.feed(chunk);
                }
            });
            onLoop(() -> { });      // deliveries the session queued run first
            String split = "split into " + chunks.length + " parts, the first " + chunks[0].length + " bytes";
            assertThat(sink.received.toString(StandardCharsets.UTF_8)).as(split).isEqualTo("hello world");
            assertThat(sink.eof).as(split).isTrue();
            assertThat(sink.failure).as(split).isNull();
            List<Written> written = frames(port.output.toByteArray());
            assertThat(written).as(split).hasSize(2);
            assertThat(written.get(0).type()).isEqualTo(Frames.OPEN_RESULT);
            LinkMessages.OpenResult result = LinkMessages.openResult(ByteBuffer.wrap(written.get(0).payload()));
            assertThat(result.outcome()).isEqualTo(TunnelOutcome.OK);
            assertThat(result.window()).isEqualTo(WINDOW);
            assertThat(written.get(1).type()).isEqualTo(Frames.PONG);
            assertThat(written.get(1).payload()).isEqualTo(PING_TOKEN);
            assertThat(pool.inUse()).as(split).isZero();
        }
    }

    @Test
    void aLinkWhoseInputComesInBulkReadsIntoABulkBufferAndGivesItBackOnceDrained() throws Exception {
        BufferPool tiered = new BufferPool(16 * 1024, 8, BufferPool.bounded(64 * 1024, 1));
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        sink.readSize = 256 * 1024;
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 0, 1_000_000_000L, 8,
                StreamWindows.fixed(1 << 20));
        LinkSession session = new LinkSession(loop, port, tiered, settings, 8, null,
                (s, id, destination) -> sink.attach(s.accept(id, BOUND)), (s, reason) -> { });
        ByteArrayOutputStream link = new ByteArrayOutputStream();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        link.write(open(1));
        for (int i = 0; i < 8; i++) {
            byte[] data = new byte[12_000];
            Arrays.fill(data, (byte) i);
            link.write(frame(Frames.DATA, 1, data));
            payload.write(data);
        }
        onLoop(() -> {
            session.start(null);
            port.feed(link.toByteArray());
        });
        onLoop(() -> { });
        assertThat(sink.received.toByteArray()).isEqualTo(payload.toByteArray());
        assertThat(sink.reads.stream().mapToInt(Integer::intValue).max().orElse(0))
                .as("once the input came in bulk, a read larger than a relay buffer holds")
                .isGreaterThan(16 * 1024);
        assertThat(tiered.inUse()).as("both buffers back once drained").isZero();
    }

    @Test
    void aStalledStreamKeepsItsBytesWhileTheLinkServesTheOthers() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink stalled = new Sink();
        stalled.paused = true;
        Sink live = new Sink();
        LinkSession session = server(port, List.of(stalled, live), new ArrayList<>());
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(1), open(3), frame(Frames.DATA, 1, text("0123456789")), frame(Frames.DATA, 3,
                    text("live")), frame(Frames.DATA, 1, text("abcdefghij")), frame(Frames.DATA, 3, text(" too"))));
        });
        onLoop(() -> { });
        assertThat(live.received.toString(StandardCharsets.UTF_8)).isEqualTo("live too");
        assertThat(stalled.received.size()).isZero();
        assertThat(port.wantRead).as("the link reads on").isTrue();
        assertThat(pool.inUse()).as("the stalled stream's bytes wait in a pooled buffer").isEqualTo(1);
        onLoop(stalled::resume);
        onLoop(() -> { });
        assertThat(stalled.received.toString(StandardCharsets.UTF_8)).isEqualTo("0123456789abcdefghij");
        assertThat(pool.inUse()).as("the buffer went back once read").isZero();
    }

    @Test
    void oneReadTakesTheStreamsConsecutiveFramesButStopsAtAnotherStreamsAndAtAViolation() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink first = new Sink();
        Sink second = new Sink();
        first.readSize = second.readSize = 4 * WINDOW;
        List<String> closes = new ArrayList<>();
        LinkSession session = server(port, List.of(first, second), closes);
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(1), open(3), frame(Frames.DATA, 1, text("one ")), frame(Frames.DATA, 1, text("two ")),
                    frame(Frames.DATA, 1, text("three")), frame(Frames.DATA, 3, text("other")),
                    frame(Frames.DATA, 1, text(" four"))));
        });
        onLoop(() -> { });
        assertThat(first.received.toString(StandardCharsets.UTF_8)).isEqualTo("one two three four");
        assertThat(first.reads).as("three frames in one read, then the one after stream 3's").containsExactly(13, 5);
        assertThat(second.received.toString(StandardCharsets.UTF_8)).isEqualTo("other");
        assertThat(closes).isEmpty();

        // A frame beyond the window right behind one the reader takes is not taken with it: it closes the link.
        onLoop(() -> port.feed(concat(frame(Frames.DATA, 1, text("five")), frame(Frames.DATA, 1, new byte[WINDOW]))));
        assertThat(first.received.toString(StandardCharsets.UTF_8)).isEqualTo("one two three fourfive");
        List<Written> written = frames(port.output.toByteArray());
        Written last = written.get(written.size() - 1);
        assertThat(last.type()).isEqualTo(Frames.ERROR);
        assertThat(new String(last.payload(), 2, last.payload().length - 2, StandardCharsets.UTF_8))
                .contains("beyond its window");
        assertThat(closes).hasSize(1);
        assertThat(pool.inUse()).isZero();
    }

    @Test
    void theWindowsOneInputTurnEarnsLeaveInOneWrite() throws Exception {
        MemoryPort port = new MemoryPort();
        List<Sink> sinks = List.of(new Sink(), new Sink(), new Sink());
        LinkSession session = server(port, sinks, new ArrayList<>());
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(1), open(3), open(5)));
        });
        onLoop(() -> { });
        int before = port.writeCalls;
        byte[] quarter = new byte[WINDOW / 4];
        onLoop(() -> port.feed(concat(frame(Frames.DATA, 1, quarter), frame(Frames.DATA, 3, quarter),
                frame(Frames.DATA, 5, quarter))));
        assertThat(grants(port, 1)).containsExactly(WINDOW / 4);
        assertThat(grants(port, 3)).containsExactly(WINDOW / 4);
        assertThat(grants(port, 5)).containsExactly(WINDOW / 4);
        assertThat(port.writeCalls - before).as("three WINDOW frames, one write").isEqualTo(1);

        // What waited for a paused reader earns its grant when the reader takes it, at the end of that delivery.
        onLoop(() -> {
            sinks.get(0).paused = true;
            port.feed(frame(Frames.DATA, 1, quarter));
        });
        assertThat(grants(port, 1)).containsExactly(WINDOW / 4);
        onLoop(() -> sinks.get(0).resume());
        onLoop(() -> { });
        assertThat(grants(port, 1)).containsExactly(WINDOW / 4, WINDOW / 4);
    }

    @Test
    void theReaderGrantsCreditAsItsRelayTakesBytesAndRefusesDataBeyondIt() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = server(port, sink, closes);
        byte[] quarter = new byte[WINDOW / 4];
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(), frame(Frames.DATA, 1, quarter)));
        });
        onLoop(() -> { });
        List<Written> written = frames(port.output.toByteArray());
        assertThat(written).extracting(Written::type).containsExactly(Frames.OPEN_RESULT, Frames.WINDOW);
        assertThat(ByteBuffer.wrap(written.get(1).payload()).getInt()).isEqualTo(WINDOW / 4);

        // Paused, the stream takes nothing: the peer may fill the window, one byte more is a violation.
        onLoop(() -> {
            sink.paused = true;
            port.feed(frame(Frames.DATA, 1, new byte[WINDOW]));
        });
        assertThat(closes).isEmpty();
        onLoop(() -> port.feed(frame(Frames.DATA, 1, new byte[1])));
        Written last = frames(port.output.toByteArray()).get(frames(port.output.toByteArray()).size() - 1);
        assertThat(last.type()).isEqualTo(Frames.ERROR);
        assertThat(new String(last.payload(), 2, last.payload().length - 2, StandardCharsets.UTF_8))
                .contains("beyond its window");
        assertThat(closes).hasSize(1);
        assertThat(pool.inUse()).as("what the stream held is released with the link").isZero();
    }

    @Test
    void aStreamWhoseReaderKeepsUpGrowsItsWindowWithinTheLinksBudgetAndAStalledOneDoesNot() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink fast = new Sink();
        Sink stalled = new Sink();
        stalled.paused = true;
        Sink late = new Sink();
        List<String> closes = new ArrayList<>();
        // Windows start at 1 KiB and may reach 4 KiB, but the link's streams may grow by 2 KiB together.
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 0, 1_000_000_000L, 8,
                new StreamWindows(WINDOW, 4 * WINDOW, 2 * WINDOW));
        List<Sink> sinks = List.of(fast, stalled, late);
        int[] next = {0};
        LinkSession session = new LinkSession(loop, port, pool, settings, 8, null,
                (s, id, destination) -> sinks.get(next[0]++).attach(s.accept(id, BOUND)),
                (s, reason) -> closes.add(reason));
        onLoop(() -> {
            session.start(null);
            // A reader that took everything as soon as it came: 1 KiB → 2 KiB, then 2 KiB → 3 KiB (the budget's rest).
            port.feed(concat(open(1), frame(Frames.DATA, 1, new byte[WINDOW / 4])));
        });
        onLoop(() -> port.feed(frame(Frames.DATA, 1, new byte[2 * WINDOW / 4])));
        onLoop(() -> { });
        assertThat(grants(port, 1)).containsExactly(WINDOW / 4 + WINDOW, 2 * WINDOW / 4 + WINDOW);
        // What was granted may be in flight at once: 3 KiB beyond the 768 bytes already taken is no violation.
        onLoop(() -> {
            fast.paused = true;
            port.feed(frame(Frames.DATA, 1, new byte[3 * WINDOW]));
        });
        assertThat(closes).isEmpty();

        // A stream whose reader lags takes its grants back without growth.
        onLoop(() -> port.feed(concat(open(3), frame(Frames.DATA, 3, new byte[WINDOW]))));
        onLoop(stalled::resume);
        onLoop(() -> { });
        assertThat(stalled.received.size()).isEqualTo(WINDOW);
        assertThat(grants(port, 3)).as("no growth: bytes still waited at each grant").allMatch(g -> g < WINDOW / 2)
                .isNotEmpty();

        // Two streams share the link's growth: the first, at 3 KiB, gives back what is above its share of 2 KiB.
        int grantsBefore = grants(port, 1).size();
        onLoop(fast::resume);
        onLoop(() -> { });
        assertThat(fast.received.size()).isEqualTo(WINDOW / 4 + 2 * WINDOW / 4 + 3 * WINDOW);
        List<Integer> after = grants(port, 1).subList(grantsBefore, grants(port, 1).size());
        assertThat(after.stream().mapToInt(Integer::intValue).sum()).as("3 KiB taken, 1 KiB of it kept back")
                .isPositive().isLessThanOrEqualTo(3 * WINDOW - WINDOW);

        // The first stream's reset gives its growth back to the link: the next fast stream grows to its share.
        onLoop(() -> port.feed(concat(frame(Frames.RST, 1, new byte[0]), open(5),
                frame(Frames.DATA, 5, new byte[WINDOW / 4]))));
        onLoop(() -> { });
        assertThat(grants(port, 5)).containsExactly(WINDOW / 4 + WINDOW);
        assertThat(closes).isEmpty();
    }

    /** {@return the credits of the WINDOW frames the session wrote for {@code stream}, in order} */
    private static List<Integer> grants(MemoryPort port, int stream) {
        return frames(port.output.toByteArray()).stream()
                .filter(w -> w.type() == Frames.WINDOW && w.stream() == stream)
                .map(w -> ByteBuffer.wrap(w.payload()).getInt()).toList();
    }

    @Test
    void aWriterStopsAtItsCreditAndAWindowFrameWakesIt() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        LinkSession session = client(port, new ArrayList<>());
        int[] taken = new int[3];
        onLoop(() -> {
            session.start(null);
            openAccepted(session, port, 1, 10, sink);
            taken[0] = sink.stream.write(ByteBuffer.wrap(text("0123456789abc")));
            taken[1] = sink.stream.write(ByteBuffer.wrap(text("abc")));
            sink.stream.interest(true, true);
        });
        assertThat(taken[0]).as("up to the credit the remote granted").isEqualTo(10);
        assertThat(taken[1]).isZero();
        assertThat(sink.writable).isFalse();
        onLoop(() -> port.feed(window(1, 3)));
        onLoop(() -> { });
        assertThat(sink.writable).as("credit wakes the writer").isTrue();
        onLoop(() -> taken[2] = sink.stream.write(ByteBuffer.wrap(text("abc"))));
        assertThat(taken[2]).isEqualTo(3);
        List<Written> written = frames(port.output.toByteArray());
        assertThat(written).extracting(Written::type).containsExactly(Frames.OPEN, Frames.DATA, Frames.DATA);
    }

    @Test
    void aWriteTheLinkTakesPartOfGoesOutWholeBeforeAnythingElse() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = client(port, closes);
        byte[] first = new byte[3000];
        Arrays.fill(first, (byte) 'a');
        byte[] second = text("second");
        int[] taken = new int[2];
        onLoop(() -> {
            session.start(null);
            openAccepted(session, port, 1, 1 << 20, sink);
            port.writeBudget = 5;
            taken[0] = sink.stream.write(ByteBuffer.wrap(first));
            taken[1] = sink.stream.write(ByteBuffer.wrap(second));
            sink.stream.interest(true, true);
        });
        assertThat(taken[0]).as("the frame is the session's once started").isEqualTo(first.length);
        assertThat(taken[1]).as("nothing more until it is out").isZero();
        assertThat(port.wantWrite).isTrue();
        onLoop(() -> port.drain(Long.MAX_VALUE));
        onLoop(() -> { });
        assertThat(sink.writable).as("the waiting stream gets its turn once the link drained").isTrue();
        onLoop(() -> {
            assertThat(sink.stream.write(ByteBuffer.wrap(second))).isEqualTo(second.length);
            sink.stream.shutdownOutput();
        });
        List<Written> written = frames(port.output.toByteArray());
        assertThat(written).extracting(Written::type).containsExactly(Frames.OPEN, Frames.DATA, Frames.DATA,
                Frames.FIN);
        assertThat(written.get(1).payload()).isEqualTo(first);
        assertThat(written.get(2).payload()).isEqualTo(second);
        assertThat(pool.inUse()).as("the spilled frame's buffer went back").isZero();
        assertThat(closes).isEmpty();
    }

    @Test
    void aWriterWaitingForTheLinkIsServedWhenAControlFrameDrainsIt() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        LinkSession session = client(port, new ArrayList<>());
        onLoop(() -> {
            session.start(null);
            openAccepted(session, port, 1, 1 << 20, sink);
            port.writeBudget = 5;
            sink.stream.write(ByteBuffer.wrap(new byte[3000]));     // a frame started: the rest waits
            sink.stream.interest(true, true);
        });
        assertThat(sink.writable).isFalse();
        // The socket drains without the session hearing of it, and a PING's PONG takes the rest out.
        onLoop(() -> {
            port.writeBudget = Long.MAX_VALUE;
            port.feed(frame(Frames.PING, 0, PING_TOKEN));
        });
        onLoop(() -> { });
        assertThat(sink.writable).as("the waiting writer is not stranded").isTrue();
    }

    /** A relay's end that writes {@code total} bytes of its own letter whenever the stream lets it. */
    private static final class Writer implements Port.Handler {
        final byte letter;
        final ByteBuffer pending;
        LinkStream stream;

        Writer(char letter, int total) {
            this.letter = (byte) letter;
            byte[] bytes = new byte[total];
            Arrays.fill(bytes, this.letter);
            pending = ByteBuffer.wrap(bytes);
        }

        void attach(LinkStream linkStream) {
            stream = linkStream;
            stream.handler(this);
        }

        void push() throws IOException {
            stream.write(pending);
            stream.interest(false, pending.hasRemaining());
        }

        @Override
        public void readable() {
        }

        @Override
        public void writable() throws IOException {
            push();
        }

        @Override
        public void failed(Throwable cause) {
            throw new AssertionError(cause);
        }
    }

    @Test
    void streamsThatAllHaveBytesTakeTurnsOnABusyLink() throws Exception {
        MemoryPort port = new MemoryPort();
        LinkSession session = client(port, new ArrayList<>());
        List<Writer> writers = List.of(new Writer('a', 200_000), new Writer('b', 200_000), new Writer('c', 200_000));
        onLoop(() -> {
            session.start(null);
            for (int i = 0; i < writers.size(); i++) {
                Writer writer = writers.get(i);
                Sink opened = new Sink();
                openAccepted(session, port, 2 * i + 1, 1 << 20, opened);
                writer.attach(opened.stream);
            }
            port.writeBudget = 0;                   // the link is busy: everyone queues
            for (Writer writer : writers) {
                writer.push();
            }
        });
        int before = port.output.size();
        for (int round = 0; round < 12; round++) {
            onLoop(() -> port.drain(40_000));
            onLoop(() -> { });
        }
        List<Written> written = frames(Arrays.copyOfRange(port.output.toByteArray(), before, port.output.size()),
                false);
        long[] bytes = new long[3];
        for (Written frame : written) {
            if (frame.type() == Frames.DATA) {
                assertThat(frame.payload().length).as("frames are bounded").isLessThanOrEqualTo(16 * 1024);
                bytes[(frame.stream() - 1) / 2] += frame.payload().length;
            }
        }
        long least = Math.min(bytes[0], Math.min(bytes[1], bytes[2]));
        long most = Math.max(bytes[0], Math.max(bytes[1], bytes[2]));
        assertThat(least).as("every stream got turns: %s", Arrays.toString(bytes)).isPositive();
        assertThat(most - least).as("turns are even, within one turn: %s", Arrays.toString(bytes))
                .isLessThanOrEqualTo(LinkSession.TURN_BYTES);
    }

    @Test
    void everyProtocolViolationGetsErrorTwoAndClosesTheLink() throws Exception {
        byte[] oversizedControl = ByteBuffer.allocate(Frames.HEADER_BYTES).putInt(Frames.MAX_CONTROL_PAYLOAD + 1)
                .put((byte) Frames.PING).put((byte) 0).putInt(0).array();
        byte[] oversizedData = ByteBuffer.allocate(Frames.HEADER_BYTES).putInt(Frames.MAX_PAYLOAD + 1)
                .put((byte) Frames.DATA).put((byte) 0).putInt(1).array();
        List<byte[]> violations = List.of(
                frame(Frames.DATA, 1, text("early")),                      // DATA before OPEN
                frame(Frames.RST, 1, new byte[0]),                          // RST before OPEN
                frame(Frames.FIN, 3, new byte[0]),                          // FIN on a stream never opened
                frame(0x30, 0, new byte[0]),                                // unknown type
                oversizedControl,
                oversizedData,
                open(2),                                                    // the remote's own number
                concat(open(3), open(1)),                                   // numbers must grow
                frame(Frames.CLIENT_HELLO, 0, new byte[4]),                 // a handshake frame after it
                frame(Frames.OPEN_RESULT, 1, LinkMessages.openResult(TunnelOutcome.OK, WINDOW, BOUND)),
                concat(open(), frame(Frames.FIN, 1, new byte[0]), frame(Frames.DATA, 1, text("after FIN"))),
                concat(open(), window(1, 0)),                               // no credit is not credit
                frame(Frames.WINDOW, 5, new byte[] {0, 0, 1, 0}),           // credit for a stream never opened
                concat(open(), frame(Frames.DATA, 1, new byte[WINDOW + 1])), // beyond the window
                frame(Frames.OPEN, 1, new byte[] {0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 80})); // no window
        for (byte[] violation : violations) {
            MemoryPort port = new MemoryPort();
            Sink sink = new Sink();
            List<String> closes = new ArrayList<>();
            LinkSession session = server(port, List.of(sink, new Sink()), closes);
            onLoop(() -> {
                session.start(null);
                port.feed(violation);
            });
            List<Written> written = frames(port.output.toByteArray());
            String which = "violation " + violations.indexOf(violation);
            assertThat(written).as(which).isNotEmpty();
            Written last = written.get(written.size() - 1);
            assertThat(last.type()).as(which).isEqualTo(Frames.ERROR);
            assertThat(ByteBuffer.wrap(last.payload()).getShort()).as(which).isEqualTo((short) Frames.ERROR_PROTOCOL);
            assertThat(port.closed).as(which).isTrue();
            assertThat(closes).as(which).hasSize(1);
            if (sink.stream != null) {
                assertThat(sink.failure).as(which).isInstanceOf(PortException.class);
            }
            assertThat(pool.inUse()).as(which).isZero();
        }
    }

    @Test
    void thePeersResetFailsTheStreamDropsWhatItHeldAndTheLinkGoesOn() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        sink.paused = true;
        Sink next = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = server(port, List.of(sink, next), closes);
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(), frame(Frames.DATA, 1, text("held"))));
        });
        assertThat(pool.inUse()).as("the paused stream holds its bytes").isEqualTo(1);
        onLoop(() -> port.feed(frame(Frames.RST, 1, new byte[0])));
        assertThat(sink.failure).isInstanceOf(PortException.class);
        assertThat(((PortException) sink.failure).outcome()).isEqualTo("reset by peer");
        assertThat(pool.inUse()).as("what it held is dropped at once").isZero();
        onLoop(() -> sink.stream.reset());      // what the relay does on the failure
        assertThat(port.closed).isFalse();
        assertThat(closes).isEmpty();
        assertThat(frames(port.output.toByteArray())).extracting(Written::type)
                .as("no RST back for a stream the peer reset").doesNotContain(Frames.RST);
        onLoop(() -> port.feed(concat(open(3), frame(Frames.DATA, 3, text("next")))));
        onLoop(() -> { });
        assertThat(next.received.toString(StandardCharsets.UTF_8)).isEqualTo("next");
    }

    @Test
    void aLinkGoingAwayRefusesNewStreamsForNowAndClosesAfterItsLastOne() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = server(port, List.of(sink), closes);
        onLoop(() -> {
            session.start(null);
            port.feed(open(1));
            session.goAway("stopping");
            port.feed(open(3));
        });
        List<Written> written = frames(port.output.toByteArray());
        assertThat(written).extracting(Written::type).containsExactly(Frames.OPEN_RESULT, Frames.GOAWAY,
                Frames.OPEN_RESULT);
        LinkMessages.OpenResult refused = LinkMessages.openResult(ByteBuffer.wrap(written.get(2).payload()));
        assertThat(refused.retry()).as("the local may try another link").isTrue();
        assertThat(port.closed).as("the open stream goes on").isFalse();
        onLoop(() -> {
            port.feed(frame(Frames.DATA, 1, text("still")));
            port.feed(frame(Frames.FIN, 1, new byte[0]));
        });
        onLoop(() -> { });
        assertThat(sink.received.toString(StandardCharsets.UTF_8)).isEqualTo("still");
        onLoop(() -> sink.stream.close());
        assertThat(port.closed).as("the peer closes it: the stream's last bytes may still leave its relays there")
                .isFalse();
        onLoop(port::end);
        assertThat(port.closed).isTrue();
        assertThat(closes).containsExactly("the peer closed the link");
    }

    @Test
    void aLinkWhosePeerGoesAwayClosesItselfOnceItsLastStreamEnded() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = client(port, closes);
        onLoop(() -> {
            session.start(null);
            openAccepted(session, port, 1, WINDOW, sink);
            port.feed(frame(Frames.GOAWAY, 0, new byte[] {0, 5}));
        });
        assertThat(session.canOpen()).as("no new stream on a link going away").isFalse();
        assertThat(port.closed).isFalse();
        onLoop(() -> {
            port.feed(frame(Frames.FIN, 1, new byte[0]));
            sink.stream.shutdownOutput();
        });
        onLoop(() -> { });
        onLoop(() -> sink.stream.close());
        assertThat(port.closed).isTrue();
        assertThat(closes).containsExactly("the peer is going away");
    }

    @Test
    void aLocalRefusesAStreamTheRemoteOpensAndCountsIt() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new ArrayList<>();
        LinkSession session = client(port, closes);
        onLoop(() -> {
            session.start(null);
            port.feed(open(2));
        });
        List<Written> written = frames(port.output.toByteArray());
        assertThat(written).extracting(Written::type).containsExactly(Frames.OPEN_RESULT);
        assertThat(LinkMessages.openResult(ByteBuffer.wrap(written.get(0).payload())).outcome())
                .isEqualTo(TunnelOutcome.NOT_ALLOWED);
        assertThat(session.refusedOpens()).isEqualTo(1);
        assertThat(closes).isEmpty();
    }

    @Test
    void aLocalRefusesVisitorStreamsForServicesItDoesNotExposeAndRegistrationsItDidNotSend() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new ArrayList<>();
        ExposedServices exposed = new ExposedServices(List.of(), "remote.example", null, null);
        LinkSession.Settings settings = new LinkSession.Settings(true, 0, 0, 0, 0, 1_000_000_000L, 8,
                StreamWindows.fixed(WINDOW));
        LinkSession session = new LinkSession(loop, port, pool, settings, 8, null, exposed,
                (s, reason) -> closes.add(reason));
        onLoop(() -> {
            session.start(null);
            port.feed(concat(frame(Frames.OPEN, 2, LinkMessages.open(WINDOW, Destination.parse("203.0.113.9", 5000),
                    "web")), frame(Frames.OPEN, 4, LinkMessages.open(WINDOW, Destination.parse("10.0.0.1", 80)))));
        });
        onLoop(() -> { });
        List<Written> written = frames(port.output.toByteArray());
        assertThat(written).extracting(Written::type).containsExactly(Frames.OPEN_RESULT, Frames.OPEN_RESULT);
        for (Written result : written) {
            assertThat(LinkMessages.openResult(ByteBuffer.wrap(result.payload())).outcome())
                    .isEqualTo(TunnelOutcome.NOT_ALLOWED);
        }
        assertThat(session.refusedOpens()).isEqualTo(2);
        assertThat(closes).as("the link goes on").isEmpty();

        onLoop(() -> port.feed(frame(Frames.REGISTER_RESULT, 0, LinkMessages.registerResult(
                new LinkMessages.RegisterResult("never-sent", LinkMessages.RegisterOutcome.GRANTED, 60001)))));
        onLoop(() -> { });
        Written last = frames(port.output.toByteArray()).get(frames(port.output.toByteArray()).size() - 1);
        assertThat(last.type()).isEqualTo(Frames.ERROR);
        assertThat(closes).hasSize(1);
    }

    @Test
    void aLinkThatEndsUnderItsStreamFailsIt() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = server(port, sink, closes);
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(), frame(Frames.DATA, 1, text("partial"))));
            port.end();
        });
        assertThat(sink.received.toString(StandardCharsets.UTF_8)).isEqualTo("partial");
        assertThat(sink.eof).as("a broken link is never a clean end").isFalse();
        assertThat(((PortException) sink.failure).outcome()).isEqualTo("link closed");
        assertThat(closes).containsExactly("the peer closed the link");
        assertThat(pool.inUse()).isZero();
    }

    @Test
    void anOpenTheLinkEndsBeforeAnsweringFailsAsOneToTryOnAnotherLink() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new ArrayList<>();
        LinkSession session = client(port, closes);
        List<Boolean> retries = new ArrayList<>();
        onLoop(() -> {
            session.start(null);
            session.open(Destination.parse("example.com", 443), new LinkSession.OpenCallback() {
                @Override
                public void opened(LinkStream stream, InetSocketAddress bound) {
                    throw new AssertionError("never answered");
                }

                @Override
                public void failed(TunnelOutcome outcome, String reason, boolean retry) {
                    retries.add(retry);
                }
            });
            port.end();
        });
        assertThat(retries).as("failed once, as one another link may carry").containsExactly(true);
        assertThat(closes).containsExactly("the peer closed the link");
    }

    @Test
    void eitherSidePingsMeasuresTheRoundTripAndGivesUpWithoutAnAnswer() throws Exception {
        for (boolean client : new boolean[] {true, false}) {
            pingsAndGivesUp(client);
        }
    }

    private void pingsAndGivesUp(boolean client) throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new java.util.concurrent.CopyOnWriteArrayList<>();
        LinkSession.Settings settings = new LinkSession.Settings(client, 50_000_000L, 50_000_000L, 0, 0,
                1_000_000_000L, 8, StreamWindows.fixed(WINDOW));
        LinkSession session = new LinkSession(loop, port, pool, settings, 8, null, null,
                (s, reason) -> closes.add(reason));
        onLoop(() -> session.start(null));
        Await.until("a PING", Duration.ofSeconds(5), () -> port.output.size() > 0);
        onLoop(() -> {
            Written ping = frames(port.output.toByteArray()).get(0);
            assertThat(ping.type()).isEqualTo(Frames.PING);
            port.feed(frame(Frames.PONG, 0, ping.payload()));
        });
        assertThat(session.roundTripNanos()).as(client ? "the local" : "the remote").isNotNegative();
        Await.until("closed for want of a PONG", Duration.ofSeconds(5), () -> !closes.isEmpty());
        assertThat(closes).containsExactly("the link did not answer its ping");
    }

    @Test
    void anUnusedServerLinkIsClosedWithErrorFour() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new java.util.concurrent.CopyOnWriteArrayList<>();
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 50_000_000L, 1_000_000_000L, 8,
                StreamWindows.fixed(WINDOW));
        LinkSession session = new LinkSession(loop, port, pool, settings, 8, null, (s, id, d) -> { },
                (s, reason) -> closes.add(reason));
        onLoop(() -> session.start(null));
        Await.until("closed as unused", Duration.ofSeconds(5), () -> !closes.isEmpty());
        Written last = frames(port.output.toByteArray()).get(0);
        assertThat(last.type()).isEqualTo(Frames.ERROR);
        assertThat(ByteBuffer.wrap(last.payload()).getShort()).isEqualTo((short) Frames.ERROR_OVERLOADED);
        assertThat(closes).containsExactly("idle link closed");
    }

    @Test
    void aServerLinkHoldingPublicPortsIsInUseWithoutStreamsAndClosedAsUnusedOnceItHoldsNone() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean holdsPorts = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 50_000_000L, 1_000_000_000L, 8,
                StreamWindows.fixed(WINDOW));
        LinkSession.Acceptor acceptor = new LinkSession.Acceptor() {
            @Override
            public void open(LinkSession session, int stream, LinkMessages.Open request) {
            }

            @Override
            public boolean inUseWithoutStreams(LinkSession session) {
                asked.incrementAndGet();
                return holdsPorts.get();
            }
        };
        LinkSession session = new LinkSession(loop, port, pool, settings, 8, null, acceptor,
                (s, reason) -> closes.add(reason));
        onLoop(() -> session.start(null));
        // Asked at every check past the unused period, and kept: several periods go by.
        Await.until("several unused periods", Duration.ofSeconds(5), () -> asked.get() >= 4);
        assertThat(closes).isEmpty();
        assertThat(session.isClosed()).isFalse();
        holdsPorts.set(false);
        Await.until("closed as unused once it holds no port", Duration.ofSeconds(5), () -> !closes.isEmpty());
        assertThat(closes).containsExactly("idle link closed");
    }
}
