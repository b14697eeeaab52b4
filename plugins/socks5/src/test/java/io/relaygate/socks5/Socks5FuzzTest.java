package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.relaygate.spi.AuthResult;
import io.relaygate.spi.Destination;
import io.relaygate.testkit.RecordingSession;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Fuzz targets for what a SOCKS5 client sends: the greeting, RFC 1929 sub-negotiation and request (fed whole and in
 * pieces, which must decide the same), and the UDP request header. {@code mvn verify} replays the committed inputs;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/testing.md).
 */
class Socks5FuzzTest {

    /** What a handshake decided: the same whatever the client's bytes were split into. */
    private record Outcome(String reject, byte[] rejectReply, Destination destination, String user,
                           InetSocketAddress udp, byte[] sent, byte[] unconsumed) {
        boolean same(Outcome o) {
            return java.util.Objects.equals(reject, o.reject) && Arrays.equals(rejectReply, o.rejectReply)
                    && java.util.Objects.equals(destination, o.destination) && java.util.Objects.equals(user, o.user)
                    && java.util.Objects.equals(udp, o.udp) && Arrays.equals(sent, o.sent)
                    && Arrays.equals(unconsumed, o.unconsumed);
        }
    }

    private static Outcome run(boolean auth, AuthResult verdict, byte[][] chunks) {
        RecordingSession session = new RecordingSession(auth);
        session.handler(new Socks5Handler(session));
        for (byte[] chunk : chunks) {
            session.feed(chunk);
            while (session.isWaitingForAuth()) {
                session.completeAuth(verdict);
            }
        }
        return new Outcome(session.rejectReason, session.rejectReply, session.destination, session.user,
                session.udpClient, session.sent(), session.unconsumed());
    }

    @FuzzTest(maxExecutions = 1_000_000)
    void handshake(FuzzedDataProvider data) {
        boolean auth = data.consumeBoolean();
        AuthResult verdict = data.pickValue(AuthResult.values());
        int split = data.consumeInt(0, 600);
        byte[] bytes = data.consumeRemainingAsBytes();
        split = Math.min(split, bytes.length);
        Outcome whole = run(auth, verdict, new byte[][] {bytes});
        Outcome twoPieces = run(auth, verdict, new byte[][] {Arrays.copyOf(bytes, split),
                Arrays.copyOfRange(bytes, split, bytes.length)});
        assertThat(twoPieces.same(whole)).as("the same decision at split %d", split).isTrue();
        if (whole.destination() != null) {
            assertThat(whole.destination().port()).isBetween(1, 65_535);
        }
    }

    @FuzzTest(maxExecutions = 1_000_000)
    void udpHeader(byte[] datagram) {
        ByteBuffer in = ByteBuffer.wrap(datagram);
        Destination destination;
        try {
            destination = Socks5Datagrams.CODEC.decode(in);
        } catch (IllegalArgumentException dropped) {
            assertThat(dropped.getMessage()).isIn("malformed", "fragmented", "address type", "bad destination");
            return;
        }
        assertThat(in.position()).isBetween(7, datagram.length);
        assertThat(destination.port()).isBetween(1, 65_535);
        if (!destination.isName()) {
            ByteBuffer header = ByteBuffer.allocate(Socks5Datagrams.CODEC.maxHeaderLength());
            Socks5Datagrams.CODEC.encode(new InetSocketAddress(destination.address(), destination.port()), header);
            header.flip();
            assertThat(Socks5Datagrams.CODEC.decode(header).address()).isEqualTo(destination.address());
        }
    }
}
