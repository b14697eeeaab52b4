package io.relaygate.httpconnect;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.spi.AuthResult;
import io.relaygate.spi.TunnelOutcome;
import io.relaygate.testkit.RecordingSession;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The CONNECT head parser: RFC 9112 strictness and RELIABILITY.md's C rows, fed at every split. */
class HttpConnectHandlerTest {

    private static final String HEAD = "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n"
            + "User-Agent: test\r\n\r\n";
    private static final String EARLY = "\u0016\u0003\u0001 client hello";

    private static RecordingSession session(boolean auth) {
        RecordingSession session = new RecordingSession(auth);
        return session.handler(new HttpConnectHandler(session, HttpConnectConfig.DEFAULTS));
    }

    private static RecordingSession feed(String text) {
        return session(false).feed(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static int status(RecordingSession session) {
        String reply = session.rejectReplyText();
        assertThat(reply).as("a reply").isNotNull();
        return Integer.parseInt(reply.substring(9, 12));
    }

    static List<byte[][]> headSplits() {
        return RecordingSession.splits((HEAD + EARLY).getBytes(StandardCharsets.ISO_8859_1));
    }

    @ParameterizedTest
    @MethodSource("headSplits")
    void headDecodesAtEverySplitAndLeavesEarlyData(byte[][] chunks) {
        RecordingSession session = session(false);
        for (byte[] chunk : chunks) {
            session.feed(chunk);
        }
        assertThat(session.rejectReason).isNull();
        assertThat(session.destination.toString()).isEqualTo("example.org:443");
        assertThat(new String(session.unconsumed(), StandardCharsets.ISO_8859_1)).isEqualTo(EARLY);
    }

    @Test
    void ipv6LiteralsComeInBrackets() {
        assertThat(feed("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n").destination.toString())
                .isEqualTo("[0:0:0:0:0:0:0:1]:8443");
        assertThat(status(feed("CONNECT ::1:8443 HTTP/1.1\r\nHost: x\r\n\r\n"))).isEqualTo(400);
        assertThat(status(feed("CONNECT [example.org]:8443 HTTP/1.1\r\nHost: x\r\n\r\n"))).isEqualTo(400);
        assertThat(status(feed("CONNECT [127.0.0.1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n"))).isEqualTo(400);
    }

    @Test
    void anIpv4MappedIpv6LiteralIsAcceptedAsSocks5AcceptsItAndThePolicyDecides() {
        assertThat(feed("CONNECT [::ffff:127.0.0.1]:8443 HTTP/1.1\r\nHost: [::ffff:127.0.0.1]:8443\r\n\r\n")
                .destination.toString()).isEqualTo("127.0.0.1:8443");
        assertThat(feed("CONNECT [::ffff:7f00:1]:80 HTTP/1.1\r\nHost: x\r\n\r\n").destination.address()
                .getHostAddress()).isEqualTo("127.0.0.1");
    }

    @Test
    void http10NeedsNoHost() {
        assertThat(feed("CONNECT example.org:443 HTTP/1.0\r\n\r\n").destination).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "CONNECT http://x/ HTTP/1.1\r\nHost: x\r\n\r\n",         // C1 absolute-form
        "CONNECT x HTTP/1.1\r\nHost: x\r\n\r\n",                 // C1 no port
        "CONNECT x:0x1bb HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT x:99999 HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT x:0 HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT user@x:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT  x:443 HTTP/1.1\r\nHost: x\r\n\r\n",            // two spaces
        "CONNECT x:443 HTTP/1.1 \r\nHost: x\r\n\r\n",
        "CONNECT x:443 HTTX/1.1\r\nHost: x\r\n\r\n",
        "CONNECT x:443 HTTP/1.1\r\nProxy-Authorization : Basic eA==\r\nHost: x\r\n\r\n",  // C6
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n",               // C7
        "CONNECT x:443 HTTP/1.1\nHost: x\n\n",                                          // C8 bare LF
        "CONNECT x:443 HTTP/1.1\r\nHost: x\rY\r\n\r\n",                                 // C8 bare CR
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n",                   // C9 NUL
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nX\u0001A: b\r\n\r\n",                     // C9 CTL in name
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",                   // C10
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n",                         // C10
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",              // C11
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",      // C11
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic YTpi\r\n"
            + "Proxy-Authorization: Basic YzpK\r\n\r\n",                                 // C13
        "CONNECT x:443 HTTP/1.1\r\n\r\n",                                               // no Host
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    })
    void malformedHeadsGet400AndNoTunnel(String head) {
        RecordingSession session = feed(head);
        assertThat(status(session)).isEqualTo(400);
        assertThat(session.destination).isNull();
        assertThat(session.rejectReplyText()).contains("Connection: close");
    }

    @Test
    void c2AbsoluteFormRequestsOfAnyMethodAreForwardedAndOriginFormGets400() {
        for (String method : List.of("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND")) {
            RecordingSession session = feed(method + " http://example/ HTTP/1.1\r\nHost: example\r\n\r\nbody");
            assertThat(session.forwarder).as(method).isNotNull();
            assertThat(session.destination).isNull();
            assertThat(new String(session.unconsumed(), StandardCharsets.ISO_8859_1)).isEqualTo("body");
        }
        assertThat(status(feed("GET / HTTP/1.1\r\nHost: example\r\n\r\n"))).isEqualTo(400);
        assertThat(status(feed("GET https://example/ HTTP/1.1\r\nHost: example\r\n\r\n"))).isEqualTo(400);
        assertThat(status(feed("GET http://user@example/ HTTP/1.1\r\nHost: example\r\n\r\n"))).isEqualTo(400);
        assertThat(status(feed("GET http://example:99999/ HTTP/1.1\r\nHost: example\r\n\r\n"))).isEqualTo(400);
        assertThat(status(feed("GET http:///x HTTP/1.1\r\nHost: example\r\n\r\n"))).isEqualTo(400);
    }

    @Test
    void aForwardedRequestAuthenticatesFirst() {
        RecordingSession session = session(true);
        session.feed(("GET http://x/ HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                + Base64.getEncoder().encodeToString("alice:pw".getBytes()) + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        assertThat(session.user).isEqualTo("alice");
        assertThat(session.forwarder).isNull();
        session.completeAuth(AuthResult.OK);
        assertThat(session.forwarder).isNotNull();
        assertThat(status(session(true).feed("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(
                StandardCharsets.ISO_8859_1)))).isEqualTo(407);
    }

    @Test
    void unsupportedVersionGets505() {
        assertThat(status(feed("CONNECT x:443 HTTP/2.0\r\nHost: x\r\n\r\n"))).isEqualTo(505);
    }

    @Test
    void c3AnOverlongRequestLineGets414WithoutWaitingForItsEnd() {
        RecordingSession session = feed("CONNECT " + "a".repeat(9000));
        assertThat(status(session)).isEqualTo(414);
    }

    @Test
    void c4AHeadOverTheLimitGets431() {
        RecordingSession session = feed("CONNECT x:443 HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(17_000));
        assertThat(status(session)).isEqualTo(431);
    }

    @Test
    void c5TooManyFieldsGet431() {
        StringBuilder head = new StringBuilder("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 101; i++) {
            head.append("X-").append(i).append(": v\r\n");
        }
        assertThat(status(feed(head + "\r\n"))).isEqualTo(431);
    }

    @Test
    void c12AfterA407TrailingBytesAreNeverParsed() {
        RecordingSession session = session(true).feed(("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertThat(status(session)).isEqualTo(407);
        assertThat(session.rejectReplyText()).contains("Proxy-Authenticate: Basic realm=\"relaygate\"");
        assertThat(session.destination).isNull();
    }

    @Test
    void c14MalformedCredentialsGet407() {
        for (String value : new String[] {"basic", "Basic !!!", "Basic " + b64("nocolon"), "Bearer abc",
                "Basic " + b64(":nouser")}) {
            RecordingSession session = session(true).feed(("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n"
                    + "Proxy-Authorization: " + value + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(status(session)).as(value).isEqualTo(407);
            assertThat(session.user).isNull();
        }
    }

    @Test
    void basicCredentialsAreVerifiedThenTheTunnelOpens() {
        RecordingSession session = session(true).feed(("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n"
                + "proxy-authorization: basic " + b64("alice:s3cr:et") + "\r\n\r\n" + EARLY)
                .getBytes(StandardCharsets.ISO_8859_1));
        assertThat(session.user).isEqualTo("alice");
        assertThat(new String(session.password)).isEqualTo("s3cr:et");
        assertThat(session.destination).isNull();
        session.completeAuth(AuthResult.OK);
        assertThat(session.destination.toString()).isEqualTo("x:443");
        assertThat(new String(session.unconsumed(), StandardCharsets.ISO_8859_1)).isEqualTo(EARLY);
    }

    @Test
    void refusedCredentialsGet407AndAnUnavailableStore502() {
        String head = "CONNECT x:443 HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic " + b64("a:b") + "\r\n\r\n";
        RecordingSession refused = session(true).feed(head.getBytes(StandardCharsets.ISO_8859_1));
        refused.completeAuth(AuthResult.REJECTED);
        assertThat(status(refused)).isEqualTo(407);
        RecordingSession unavailable = session(true).feed(head.getBytes(StandardCharsets.ISO_8859_1));
        unavailable.completeAuth(AuthResult.UNAVAILABLE);
        assertThat(status(unavailable)).isEqualTo(502);
    }

    @Test
    void c16TheSuccessReplyHasNoContentLengthOrTransferEncoding() {
        assertThat(reply(TunnelOutcome.OK)).isEqualTo("HTTP/1.1 200 Connection established\r\n\r\n");
    }

    @Test
    void failureRepliesFollowTheOutcomeTable() {
        assertThat(reply(TunnelOutcome.NOT_ALLOWED)).startsWith("HTTP/1.1 403 ");
        assertThat(reply(TunnelOutcome.TIMED_OUT)).startsWith("HTTP/1.1 504 ");
        assertThat(reply(TunnelOutcome.CONNECTION_REFUSED)).startsWith("HTTP/1.1 502 ");
        assertThat(reply(TunnelOutcome.HOST_UNREACHABLE)).startsWith("HTTP/1.1 502 ");
        assertThat(reply(TunnelOutcome.NETWORK_UNREACHABLE)).startsWith("HTTP/1.1 502 ");
        assertThat(reply(TunnelOutcome.GENERAL_FAILURE)).startsWith("HTTP/1.1 502 ");
        assertThat(reply(TunnelOutcome.LINK_AUTH_FAILED)).startsWith("HTTP/1.1 502 ")
                .contains("refused this gateway's credentials");
        assertThat(reply(TunnelOutcome.CLIENT_AUTH_FAILED)).startsWith("HTTP/1.1 407 ")
                .contains("Proxy-Authenticate: Basic");
    }

    @Test
    void c17APipelinedSecondConnectIsTunnelPayload() {
        String second = "CONNECT y:443 HTTP/1.1\r\nHost: y\r\n\r\n";
        RecordingSession session = feed(HEAD + second);
        assertThat(session.destination.toString()).isEqualTo("example.org:443");
        assertThat(new String(session.unconsumed(), StandardCharsets.ISO_8859_1)).isEqualTo(second);
    }

    private static String reply(TunnelOutcome outcome) {
        ByteBuffer reply = new HttpConnectHandler(new RecordingSession(false), HttpConnectConfig.DEFAULTS)
                .tunnelReply(outcome, null);
        return StandardCharsets.ISO_8859_1.decode(reply).toString();
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
