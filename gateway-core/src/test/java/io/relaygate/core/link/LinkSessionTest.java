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
 * The link session on its own, over a port in memory: frames fed at every split point, backpressure both ways,
 * every protocol violation, the peer's reset and the link's end, keepalive. Everything runs on a real event loop.
 */
@Timeout(60)
class LinkSessionTest {

    private static final InetSocketAddress BOUND = new InetSocketAddress("127.0.0.1", 1234);
    private static final byte[] PING_TOKEN = {1, 2, 3, 4, 5, 6, 7, 8};

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
            ByteBuffer buffer = ByteBuffer.allocate(7);     // small: a payload takes several reads
            int n;
            while (!paused && (n = stream.read(buffer.clear())) != 0) {
                if (n < 0) {
                    eof = true;
                    break;
                }
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

    /** A remote's session whose acceptor accepts every stream into {@code sink}. */
    private LinkSession server(MemoryPort port, Sink sink, List<String> closes) {
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 0, 1_000_000_000L);
        return new LinkSession(loop, port, pool, settings, null,
                (session, id, destination) -> sink.attach(session.accept(id, BOUND)),
                (session, reason) -> closes.add(reason));
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
        return frame(Frames.OPEN, 1, LinkMessages.open(Destination.parse("10.0.0.1", 80)));
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A frame the session wrote. */
    private record Written(int type, int stream, byte[] payload) {
    }

    private static List<Written> frames(byte[] bytes) {
        List<Written> frames = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.remaining() >= Frames.HEADER_BYTES) {
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
            String split = "split into " + chunks.length + " parts, the first " + chunks[0].length + " bytes";
            assertThat(sink.received.toString(StandardCharsets.UTF_8)).as(split).isEqualTo("hello world");
            assertThat(sink.eof).as(split).isTrue();
            assertThat(sink.failure).as(split).isNull();
            List<Written> written = frames(port.output.toByteArray());
            assertThat(written).as(split).hasSize(2);
            assertThat(written.get(0).type()).isEqualTo(Frames.OPEN_RESULT);
            assertThat(LinkMessages.openResult(ByteBuffer.wrap(written.get(0).payload())).outcome())
                    .isEqualTo(TunnelOutcome.OK);
            assertThat(written.get(1).type()).isEqualTo(Frames.PONG);
            assertThat(written.get(1).payload()).isEqualTo(PING_TOKEN);
        }
    }

    @Test
    void aStreamThatCannotTakeItsBytesStopsTheLinkUntilItCan() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        sink.paused = true;
        LinkSession session = server(port, sink, new ArrayList<>());
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(), frame(Frames.DATA, 1, text("0123456789")), frame(Frames.DATA, 1,
                    text("abcdefghij"))));
        });
        assertThat(sink.received.size()).isZero();
        assertThat(port.wantRead).as("the link is not read while its stream's bytes wait").isFalse();
        onLoop(sink::resume);
        onLoop(() -> { });      // the resume the stream asked for runs first
        assertThat(sink.received.toString(StandardCharsets.UTF_8)).isEqualTo("0123456789abcdefghij");
        assertThat(port.wantRead).as("reading again").isTrue();
        assertThat(pool.inUse()).as("the empty input buffer went back to the pool").isZero();
    }

    @Test
    void aWriteTheLinkTakesPartOfGoesOutWholeBeforeAnythingElse() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession.Settings settings = new LinkSession.Settings(true, 0, 0, 0, 0, 1_000_000_000L);
        LinkSession session = new LinkSession(loop, port, pool, settings, null, null,
                (s, reason) -> closes.add(reason));
        byte[] first = new byte[3000];
        Arrays.fill(first, (byte) 'a');
        byte[] second = text("second");
        int[] taken = new int[2];
        onLoop(() -> {
            session.start(null);
            session.open(Destination.parse("example.com", 443), new LinkSession.OpenCallback() {
                @Override
                public void opened(LinkStream stream, InetSocketAddress bound) {
                    sink.attach(stream);
                }

                @Override
                public void failed(TunnelOutcome outcome, String reason) {
                    throw new AssertionError(reason);
                }
            });
            port.feed(frame(Frames.OPEN_RESULT, 1, LinkMessages.openResult(TunnelOutcome.OK, BOUND)));
            port.writeBudget = 5;
            taken[0] = sink.stream.write(ByteBuffer.wrap(first));
            taken[1] = sink.stream.write(ByteBuffer.wrap(second));
            sink.stream.interest(true, true);
        });
        assertThat(taken[0]).as("the frame is the session's once started").isEqualTo(first.length);
        assertThat(taken[1]).as("nothing more until it is out").isZero();
        assertThat(port.wantWrite).isTrue();
        onLoop(() -> port.drain(Long.MAX_VALUE));
        assertThat(sink.writable).as("the waiting stream hears that the link drained").isTrue();
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
                frame(Frames.OPEN, 2, LinkMessages.open(Destination.parse("10.0.0.1", 80))),   // the local's number
                concat(open(), frame(Frames.OPEN, 3, LinkMessages.open(Destination.parse("10.0.0.1", 80)))),
                frame(Frames.CLIENT_HELLO, 0, new byte[4]),                 // a handshake frame after it
                frame(Frames.OPEN_RESULT, 1, LinkMessages.openResult(TunnelOutcome.OK, BOUND)),
                concat(open(), frame(Frames.FIN, 1, new byte[0]), frame(Frames.DATA, 1, text("after FIN"))));
        for (byte[] violation : violations) {
            MemoryPort port = new MemoryPort();
            Sink sink = new Sink();
            List<String> closes = new ArrayList<>();
            LinkSession session = server(port, sink, closes);
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
    void thePeersResetFailsTheStreamAndVersionOneEndsTheLink() throws Exception {
        MemoryPort port = new MemoryPort();
        Sink sink = new Sink();
        List<String> closes = new ArrayList<>();
        LinkSession session = server(port, sink, closes);
        onLoop(() -> {
            session.start(null);
            port.feed(concat(open(), frame(Frames.DATA, 1, text("partial")), frame(Frames.RST, 1, new byte[0])));
        });
        assertThat(sink.failure).isInstanceOf(PortException.class);
        assertThat(((PortException) sink.failure).outcome()).isEqualTo("reset by peer");
        onLoop(() -> sink.stream.reset());      // what the relay does on the failure
        assertThat(port.closed).isTrue();
        assertThat(closes).hasSize(1);
        assertThat(frames(port.output.toByteArray())).extracting(Written::type)
                .as("no RST back for a stream the peer reset").doesNotContain(Frames.RST);
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
    void anIdleClientPingsAndGivesUpWithoutAnAnswer() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new java.util.concurrent.CopyOnWriteArrayList<>();
        LinkSession.Settings settings = new LinkSession.Settings(true, 50_000_000L, 50_000_000L, 0, 0,
                1_000_000_000L);
        LinkSession session = new LinkSession(loop, port, pool, settings, null, null,
                (s, reason) -> closes.add(reason));
        onLoop(() -> session.start(null));
        Await.until("closed for want of a PONG", Duration.ofSeconds(5), () -> !closes.isEmpty());
        assertThat(closes).containsExactly("an idle link did not answer its ping");
        assertThat(frames(port.output.toByteArray())).extracting(Written::type).contains(Frames.PING);
    }

    @Test
    void anUnusedServerLinkIsClosedWithErrorFour() throws Exception {
        MemoryPort port = new MemoryPort();
        List<String> closes = new java.util.concurrent.CopyOnWriteArrayList<>();
        LinkSession.Settings settings = new LinkSession.Settings(false, 0, 0, 0, 50_000_000L, 1_000_000_000L);
        LinkSession session = new LinkSession(loop, port, pool, settings, null, (s, id, d) -> { },
                (s, reason) -> closes.add(reason));
        onLoop(() -> session.start(null));
        Await.until("closed as unused", Duration.ofSeconds(5), () -> !closes.isEmpty());
        Written last = frames(port.output.toByteArray()).get(0);
        assertThat(last.type()).isEqualTo(Frames.ERROR);
        assertThat(ByteBuffer.wrap(last.payload()).getShort()).isEqualTo((short) Frames.ERROR_OVERLOADED);
        assertThat(closes).containsExactly("idle link closed");
    }
}
