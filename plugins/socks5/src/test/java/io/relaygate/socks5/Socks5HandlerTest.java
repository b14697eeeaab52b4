package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.spi.AuthResult;
import io.relaygate.spi.TunnelOutcome;
import io.relaygate.testkit.RecordingSession;
import io.relaygate.testkit.Socks5Client;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The SOCKS5 handshake decoder: RFC 1928/1929 messages and RELIABILITY.md's A rows, fed at every split. */
class Socks5HandlerTest {

    private static final byte[] EARLY = "early data".getBytes();

    private static RecordingSession session(boolean auth) {
        RecordingSession session = new RecordingSession(auth);
        return session.handler(new Socks5Handler(session));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static List<byte[][]> noAuthSplits() {
        return RecordingSession.splits(concat(Socks5Client.greetingAndRequest("example.org", 443), EARLY));
    }

    @ParameterizedTest
    @MethodSource("noAuthSplits")
    void greetingAndRequestDecodeAtEverySplitAndLeaveEarlyData(byte[][] chunks) {
        RecordingSession session = session(false);
        for (byte[] chunk : chunks) {
            session.feed(chunk);
        }
        assertThat(session.rejectReason).isNull();
        assertThat(session.sent()).containsExactly(5, 0);
        assertThat(session.destination.toString()).isEqualTo("example.org:443");
        assertThat(session.unconsumed()).isEqualTo(EARLY);
    }

    static List<byte[][]> authSplits() {
        return RecordingSession.splits(concat(new byte[] {5, 2, 0, 2}, Socks5Client.auth("alice", "secret")));
    }

    @ParameterizedTest
    @MethodSource("authSplits")
    void authenticationDecodesAtEverySplit(byte[][] chunks) {
        RecordingSession session = session(true);
        for (byte[] chunk : chunks) {
            session.feed(chunk);
        }
        assertThat(session.sent()).containsExactly(5, 2);
        assertThat(session.user).isEqualTo("alice");
        assertThat(session.password).isEqualTo("secret".getBytes());
    }

    @Test
    void pipelinedRequestAfterAuthIsHandledOnceAuthSucceeds() {
        RecordingSession session = session(true);
        session.feed(concat(new byte[] {5, 1, 2}, Socks5Client.auth("alice", "secret"),
                Socks5Client.request("10.1.2.3", 8080), EARLY));
        assertThat(session.isWaitingForAuth()).isTrue();
        assertThat(session.destination).isNull();
        session.completeAuth(AuthResult.OK);
        assertThat(session.sent()).containsExactly(5, 2, 1, 0);
        assertThat(session.destination.toString()).isEqualTo("10.1.2.3:8080");
        assertThat(session.unconsumed()).isEqualTo(EARLY);
    }

    @Test
    void ipv6DestinationIsDecoded() {
        RecordingSession session = session(false).feed(Socks5Client.greetingAndRequest("::1", 22));
        assertThat(session.destination.toString()).isEqualTo("[0:0:0:0:0:0:0:1]:22");
    }

    @Test
    void a1WrongVersionClosesWithoutReply() {
        for (byte version : new byte[] {4, 0}) {
            RecordingSession session = session(false).feed(new byte[] {version, 1, 0});
            assertThat(session.rejectReason).isNotNull();
            assertThat(session.rejectReply).isNull();
        }
    }

    @Test
    void a2NoMethodsGetsNoAcceptableMethod() {
        RecordingSession session = session(false).feed(new byte[] {5, 0});
        assertThat(session.rejectReply).containsExactly(5, 0xFF);
    }

    @Test
    void a3AuthRequiredNeverFallsBackToNoAuth() {
        RecordingSession session = session(true).feed(new byte[] {5, 1, 0});
        assertThat(session.rejectReply).containsExactly(5, 0xFF);
        assertThat(session.user).isNull();
    }

    @Test
    void a4TruncatedMethodListWaitsForMore() {
        RecordingSession session = session(false).feed(new byte[] {5, (byte) 0xFF, 0, 1, 2});
        assertThat(session.rejectReason).isNull();
        assertThat(session.sent()).isEmpty();   // the gateway's absolute deadline closes it
    }

    @Test
    void a8AuthSubnegotiationWithWrongVersionFails() {
        RecordingSession session = session(true).feed(new byte[] {5, 1, 2, 5, 5, 'a', 'l', 'i', 'c', 'e', 1, 'x'});
        assertThat(session.rejectReply).containsExactly(1, 1);
    }

    @Test
    void a9EmptyUserOrPasswordFails() {
        assertThat(session(true).feed(new byte[] {5, 1, 2, 1, 0}).rejectReply).containsExactly(1, 1);
        assertThat(session(true).feed(new byte[] {5, 1, 2, 1, 1, 'a', 0}).rejectReply).containsExactly(1, 1);
    }

    @Test
    void a10LongUserNameThenSilenceWaitsWithoutOverRead() {
        byte[] partial = concat(new byte[] {5, 1, 2, 1, (byte) 255}, new byte[10]);
        RecordingSession session = session(true).feed(partial);
        assertThat(session.rejectReason).isNull();
        assertThat(session.user).isNull();
    }

    @Test
    void a11FailedAuthenticationAnswersFailureStatus() {
        RecordingSession session = session(true).feed(concat(new byte[] {5, 1, 2}, Socks5Client.auth("a", "b")));
        session.completeAuth(AuthResult.REJECTED);
        assertThat(session.rejectReply).containsExactly(1, 1);
        assertThat(session.destination).isNull();
    }

    @Test
    void a12RequestInPlaceOfAuthenticationIsNeverServed() {
        RecordingSession session = session(true).feed(concat(new byte[] {5, 1, 2},
                Socks5Client.request("127.0.0.1", 80)));
        assertThat(session.rejectReply).containsExactly(1, 1);
        assertThat(session.destination).isNull();
    }

    @Test
    void a15UnsupportedCommandsGetCommandNotSupported() {
        for (byte command : new byte[] {2, 4, 9}) {
            RecordingSession session = session(false).feed(new byte[] {5, 1, 0, 5, command, 0, 1, 127, 0, 0, 1, 0,
                80});
            assertThat(session.rejectReply[1]).isEqualTo((byte) 7);
        }
    }

    @Test
    void udpAssociateHandsTheClientsEndpointAndTheCodecToTheGateway() {
        RecordingSession session = session(false).feed(new byte[] {5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, 0x13, (byte) 0x88});
        assertThat(session.codec).isNotNull();
        assertThat(session.udpClient.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(session.udpClient.getPort()).isEqualTo(5000);
        RecordingSession zeros = session(false).feed(new byte[] {5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0});
        assertThat(zeros.udpClient.getPort()).isZero();
        RecordingSession name = session(false).feed(new byte[] {5, 1, 0, 5, 3, 0, 3, 1, 'x', 0, 0});
        assertThat(name.udpClient.getAddress().isAnyLocalAddress()).as("a name leaves it to the first datagram").isTrue();
    }

    @Test
    void a16UnknownAddressTypeGetsAddressTypeNotSupported() {
        for (byte type : new byte[] {2, (byte) 0xFF}) {
            RecordingSession session = session(false).feed(new byte[] {5, 1, 0, 5, 1, 0, type, 1, 2, 3, 4, 0, 80});
            assertThat(session.rejectReply[1]).isEqualTo((byte) 8);
        }
    }

    @Test
    void a17BadDomainNamesAreRefusedBeforeAnyResolver() {
        for (String name : new String[] {"", "a b", "a\u0000b", "a\r\nb", "a..b", "x".repeat(254), "%00"}) {
            RecordingSession session = session(false).feed(Socks5Client.greetingAndRequest(name, 80));
            assertThat(session.destination).as(name).isNull();
            assertThat(session.rejectReply[1]).as(name).isEqualTo((byte) 4);
        }
    }

    @Test
    void a18PortZeroIsNotAllowed() {
        RecordingSession session = session(false).feed(Socks5Client.greetingAndRequest("127.0.0.1", 0));
        assertThat(session.rejectReply[1]).isEqualTo((byte) 2);
    }

    @Test
    void a19NonZeroReservedByteIsRejected() {
        RecordingSession session = session(false).feed(new byte[] {5, 1, 0, 5, 1, 1, 1, 127, 0, 0, 1, 0, 80});
        assertThat(session.rejectReply[1]).isEqualTo((byte) 1);
        assertThat(session.destination).isNull();
    }

    @Test
    void a20BytesAfterTheRequestAreNeverParsedAsProtocol() {
        byte[] trailing = Socks5Client.greetingAndRequest("127.0.0.2", 9);     // looks like a second request
        RecordingSession session = session(false).feed(concat(Socks5Client.greetingAndRequest("127.0.0.1", 80),
                trailing));
        assertThat(session.destination.toString()).isEqualTo("127.0.0.1:80");
        assertThat(session.unconsumed()).isEqualTo(trailing);
    }

    @Test
    void repliesFollowTheOutcomeTable() {
        Socks5Handler handler = new Socks5Handler(new RecordingSession(false));
        assertThat(replyCode(handler, TunnelOutcome.NOT_ALLOWED)).isEqualTo(2);
        assertThat(replyCode(handler, TunnelOutcome.LINK_AUTH_FAILED)).isEqualTo(2);
        assertThat(replyCode(handler, TunnelOutcome.HOST_UNREACHABLE)).isEqualTo(4);
        assertThat(replyCode(handler, TunnelOutcome.TIMED_OUT)).isEqualTo(4);
        assertThat(replyCode(handler, TunnelOutcome.NETWORK_UNREACHABLE)).isEqualTo(3);
        assertThat(replyCode(handler, TunnelOutcome.CONNECTION_REFUSED)).isEqualTo(5);
        assertThat(replyCode(handler, TunnelOutcome.COMMAND_NOT_SUPPORTED)).isEqualTo(7);
        assertThat(replyCode(handler, TunnelOutcome.ADDRESS_TYPE_NOT_SUPPORTED)).isEqualTo(8);
        assertThat(replyCode(handler, TunnelOutcome.GENERAL_FAILURE)).isEqualTo(1);
    }

    @Test
    void successReplyCarriesTheBoundAddress() {
        ByteBuffer reply = new Socks5Handler(new RecordingSession(false))
                .tunnelReply(TunnelOutcome.OK, new InetSocketAddress("127.0.0.1", 0x1234));
        byte[] bytes = new byte[reply.remaining()];
        reply.get(bytes);
        assertThat(bytes).containsExactly(5, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34);
    }

    private static int replyCode(Socks5Handler handler, TunnelOutcome outcome) {
        return handler.tunnelReply(outcome, null).get(1);
    }
}
