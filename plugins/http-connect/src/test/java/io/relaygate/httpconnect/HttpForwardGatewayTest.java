package io.relaygate.httpconnect;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Plain HTTP forwarding through a real in-process gateway, against a scripted origin, over loopback sockets. */
@Timeout(60)
class HttpForwardGatewayTest {

    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    @RegisterExtension
    final Closer closer = new Closer();
    @TempDir
    Path data;

    private Gateway gateway(String... settings) {
        return closer.track(TestGateway.start(List.of(new HttpConnectPlugin()), settings));
    }

    private ScriptedOrigin origin(ScriptedOrigin.Script script) throws IOException {
        return closer.track(new ScriptedOrigin(script));
    }

    private static Socket open(Gateway gateway) throws IOException {
        Socket socket = new Socket(gateway.address("mixed").getAddress(), gateway.address("mixed").getPort());
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** A response as the client read it: the head, and the body bytes as framed on the wire. */
    record Response(String head, byte[] body) {
        int status() {
            return Integer.parseInt(head.substring(9, 12));
        }

        String field(String name) {
            return new ScriptedOrigin.Request(0, head, body).field(name);
        }

        String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /** Reads one response, framed as RFC 9112 §6.3 says (for a response to a GET unless {@code toHead}). */
    private static Response read(InputStream in, boolean toHead) throws IOException {
        String head = readHead(in);
        while (head.startsWith("HTTP/1.1 1") && !head.startsWith("HTTP/1.1 101")) {
            head = readHead(in);        // interim responses
        }
        String lower = head.toLowerCase(Locale.ROOT);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int status = Integer.parseInt(head.substring(9, 12));
        if (toHead || status == 204 || status == 304 || status == 101) {
            return new Response(head, new byte[0]);
        }
        if (lower.contains("\r\ntransfer-encoding: chunked")) {
            while (true) {
                String size = line(in);
                body.writeBytes((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    for (String t; !(t = line(in)).isEmpty(); ) {
                        body.writeBytes((t + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    }
                    body.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    break;
                }
                body.writeBytes(in.readNBytes(n + 2));
            }
        } else if (lower.contains("\r\ncontent-length:")) {
            int at = lower.indexOf("\r\ncontent-length:");
            int n = Integer.parseInt(lower.substring(at + 17, lower.indexOf("\r\n", at + 2)).trim());
            body.writeBytes(in.readNBytes(n));
        } else {
            body.writeBytes(in.readAllBytes());
        }
        return new Response(head, body.toByteArray());
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("end of stream in a response head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
            line.append((char) b);
        }
        return line.substring(0, Math.max(0, line.length() - 1));
    }

    @Test
    void keepAliveRequestsToOneOriginShareOneUpstreamAndHopByHopFieldsStayBehind() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        Gateway gateway = gateway();
        try (Socket socket = open(gateway)) {
            for (int i = 0; i < 3; i++) {
                send(socket, "GET " + origin.url("/a?q=" + i) + " HTTP/1.1\r\nHost: wrong\r\nProxy-Connection: "
                        + "keep-alive\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nTE: "
                        + "trailers\r\nProxy-Authorization: Basic eDp5\r\nAccept: */*\r\n\r\n");
                Response response = read(socket.getInputStream(), false);
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.text()).isEqualTo("ok");
                assertThat(response.field("Via")).isEqualTo("1.1 relaygate");
                assertThat(response.field("Connection")).isNull();
                ScriptedOrigin.Request request = origin.next();
                assertThat(request.requestLine()).isEqualTo("GET /a?q=" + i + " HTTP/1.1");
                assertThat(request.field("Host")).isEqualTo("127.0.0.1:" + origin.port());
                assertThat(request.field("Accept")).isEqualTo("*/*");
                assertThat(request.field("Via")).isEqualTo("1.1 relaygate");
                for (String hopByHop : List.of("Proxy-Connection", "Connection", "X-Secret", "Keep-Alive", "TE",
                        "Proxy-Authorization", "X-Forwarded-For")) {
                    assertThat(request.field(hopByHop)).as(hopByHop).isNull();
                }
                assertThat(request.connection()).as("one upstream connection").isEqualTo(1);
            }
        }
        assertThat(origin.connections()).isEqualTo(1);
    }

    @Test
    void severalOriginsOverOneClientConnection() throws Exception {
        ScriptedOrigin first = origin(r -> ScriptedOrigin.Reply.of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"));
        ScriptedOrigin second = origin(r -> ScriptedOrigin.Reply.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"));
        try (Socket socket = open(gateway())) {
            for (ScriptedOrigin origin : List.of(first, second, first)) {
                send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(read(socket.getInputStream(), false).text()).isEqualTo(origin == first ? "first"
                        : "second");
            }
        }
        assertThat(first.connections() + second.connections()).isEqualTo(3);
    }

    @Test
    void chunkedResponsesPassWithTheirTrailersToHttp11AndUnchunkedToHttp10() throws Exception {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n";
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(chunked));
        try (Socket socket = open(gateway())) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            Response response = read(socket.getInputStream(), false);
            assertThat(response.field("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(response.text()).isEqualTo("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n");
            send(socket, "GET " + origin.url("/again") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).status()).as("still kept alive").isEqualTo(200);
        }
        try (Socket socket = open(gateway())) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Response response = read(socket.getInputStream(), false);
            assertThat(response.field("Transfer-Encoding")).isNull();
            assertThat(response.field("Connection")).isEqualTo("close");
            assertThat(response.text()).as("the content only, delimited by the close").isEqualTo("hello world");
        }
    }

    @Test
    void http10ClientsAreKeptAliveOnlyWhenTheyAsk() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        try (Socket socket = open(gateway())) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Response response = read(socket.getInputStream(), false);
            assertThat(response.field("Connection")).isEqualTo("keep-alive");
            assertThat(response.field("Via")).isEqualTo("1.1 relaygate");
            assertThat(origin.next().field("Via")).isEqualTo("1.0 relaygate");
            send(socket, "GET " + origin.url("/") + " HTTP/1.0\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).field("Connection")).isEqualTo("close");
            assertThat(Sockets.awaitEnd(socket)).isEqualTo(Sockets.End.EOF);
        }
    }

    @Test
    void aCloseDelimitedResponseClosesTheClientConnectionAfterIt() throws Exception {
        ScriptedOrigin origin = origin(r -> new ScriptedOrigin.Reply("HTTP/1.1 200 OK\r\n\r\nuntil the end", true,
                false));
        try (Socket socket = open(gateway())) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            Response response = read(socket.getInputStream(), false);
            assertThat(response.field("Connection")).isEqualTo("close");
            assertThat(response.text()).isEqualTo("until the end");
        }
    }

    @Test
    void headAnd204And304HaveNoBodyAndTheConnectionGoesOn() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(switch (r.requestLine().split(" ")[1]) {
            case "/head" -> "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
            case "/204" -> "HTTP/1.1 204 No Content\r\n\r\n";
            case "/304" -> "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n";
            default -> OK;
        }));
        try (Socket socket = open(gateway())) {
            send(socket, "HEAD " + origin.url("/head") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            Response head = read(socket.getInputStream(), true);
            assertThat(head.field("Content-Length")).isEqualTo("1000");
            send(socket, "GET " + origin.url("/204") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).status()).isEqualTo(204);
            send(socket, "GET " + origin.url("/304") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).field("ETag")).isEqualTo("\"x\"");
            send(socket, "GET " + origin.url("/last") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).text()).isEqualTo("ok");
        }
        assertThat(origin.connections()).isEqualTo(1);
    }

    @Test
    void requestBodiesStreamAsSentWithContentLengthChunkedAndExpectContinue() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        try (Socket socket = open(gateway())) {
            send(socket, "POST " + origin.url("/len") + " HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
            assertThat(read(socket.getInputStream(), false).status()).isEqualTo(200);
            assertThat(new String(origin.next().rawBody(), StandardCharsets.ISO_8859_1)).isEqualTo("hello world");

            String chunks = "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nX-Check: 1\r\n\r\n";
            send(socket, "PUT " + origin.url("/chunked") + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunks);
            assertThat(read(socket.getInputStream(), false).status()).isEqualTo(200);
            ScriptedOrigin.Request chunked = origin.next();
            assertThat(chunked.field("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(new String(chunked.rawBody(), StandardCharsets.ISO_8859_1)).isEqualTo(chunks);

            send(socket, "POST " + origin.url("/expect") + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    + "Content-Length: 4\r\n\r\n");
            assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 100 ");
            send(socket, "body");
            assertThat(read(socket.getInputStream(), false).status()).isEqualTo(200);
            assertThat(new String(origin.next().rawBody(), StandardCharsets.ISO_8859_1)).isEqualTo("body");
        }
    }

    @Test
    void anUpgradeBecomesATunnelAfterThe101() throws Exception {
        ScriptedOrigin origin = origin(r -> new ScriptedOrigin.Reply("HTTP/1.1 101 Switching Protocols\r\n"
                + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false, true));
        try (Socket socket = open(gateway())) {
            send(socket, "GET " + origin.url("/ws") + " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            Response response = read(socket.getInputStream(), false);
            assertThat(response.status()).isEqualTo(101);
            assertThat(response.field("Upgrade")).isEqualTo("websocket");
            ScriptedOrigin.Request request = origin.next();
            assertThat(request.field("Upgrade")).isEqualTo("websocket");
            assertThat(request.field("Connection")).isEqualTo("upgrade");
            send(socket, "frames both ways");
            assertThat(new String(socket.getInputStream().readNBytes(16), StandardCharsets.ISO_8859_1))
                    .isEqualTo("frames both ways");
            socket.shutdownOutput();
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void aRequestOnAKeptConnectionTheOriginClosedIsSentAgainOnce() throws Exception {
        // The origin says nothing of closing, then closes after each response: the next request finds it gone.
        ScriptedOrigin origin = origin(r -> new ScriptedOrigin.Reply(OK, true, false));
        try (Socket socket = open(gateway())) {
            for (int i = 0; i < 4; i++) {
                send(socket, "GET " + origin.url("/" + i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(read(socket.getInputStream(), false).text()).isEqualTo("ok");
            }
        }
        assertThat(origin.connections()).isEqualTo(4);
    }

    /** RFC 9112 §6.3 and §11.2: a request whose end could be read two ways never reaches an origin. */
    @Test
    void smugglingShapedRequestsGet400AndReachNoOrigin() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        Gateway gateway = gateway();
        String url = origin.url("/");
        for (String head : List.of(
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                "POST " + url + " HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
                "POST " + url + " HTTP/1.1\r\nHost: x\r\nX-A: b\r\n chunked\r\n\r\n",
                "GET " + url + " HTTP/1.1\r\nHost: x\r\nX-A: b\nContent-Length: 4\r\n\r\n",
                "GET " + url + " HTTP/1.1\r\nHost: x\r\nX-A: b\rc\r\n\r\n",
                "GET " + url + " HTTP/1.1\r\n\r\n",
                "GET " + url + " HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
                "GET /relative HTTP/1.1\r\nHost: x\r\n\r\n")) {
            try (Socket socket = open(gateway)) {
                send(socket, head + "0\r\n\r\n");
                String reply = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
                assertThat(reply).as(head).startsWith("HTTP/1.1 400 ").contains("Connection: close");
            }
        }
        assertThat(origin.poll(200)).as("no request reached the origin").isNull();
        // a valid request on the same gateway still goes through
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + url + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).text()).isEqualTo("ok");
        }
    }

    @Test
    void aMalformedChunkInALaterRequestBodyClosesTheConnection() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        try (Socket socket = open(gateway())) {
            send(socket, "POST " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "zz\r\nabc\r\n0\r\n\r\n");
            String reply = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
            assertThat(reply).startsWith("HTTP/1.1 400 ").contains("malformed chunk size");
        }
    }

    @Test
    void limitsGet414And431() throws Exception {
        Gateway gateway = gateway();
        try (Socket socket = open(gateway)) {
            send(socket, "GET http://127.0.0.1/" + "a".repeat(9000) + " HTTP/1.1\r\n");
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 414 ");
        }
        try (Socket socket = open(gateway)) {
            send(socket, "GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n" + ("X-Big: " + "b".repeat(1000) + "\r\n")
                    .repeat(17));
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 431 ");
        }
    }

    @Test
    void aSecondRequestOverTheLimitGets431AfterTheFirstWasServed() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        try (Socket socket = open(gateway())) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).text()).isEqualTo("ok");
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n" + ("X-Big: " + "b".repeat(1000)
                    + "\r\n").repeat(17));
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 431 ");
        }
    }

    @Test
    void originFailuresMapTo502And504AndAMalformedResponseTo502() throws Exception {
        Gateway gateway = gateway("timeouts.connect", "500ms");
        int closed;
        try (java.net.ServerSocket unused = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = unused.getLocalPort();
        }
        try (Socket socket = open(gateway)) {
            send(socket, "GET http://127.0.0.1:" + closed + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
            String reply = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
            assertThat(reply).startsWith("HTTP/1.1 502 ").contains("connection refused");
        }
        ScriptedOrigin broken = origin(r -> new ScriptedOrigin.Reply("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                + "Content-Length: 4\r\n\r\nabcd", true, false));
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + broken.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            String reply = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
            assertThat(reply).startsWith("HTTP/1.1 502 ").contains("malformed response");
        }
        ScriptedOrigin silent = origin(r -> new ScriptedOrigin.Reply("", true, false));
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + silent.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 502 ");
        }
        ScriptedOrigin truncated = origin(r -> new ScriptedOrigin.Reply("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                + "\r\nshort", true, false));
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + truncated.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(Sockets.awaitEnd(socket)).as("a truncated body is a reset, never a clean end")
                    .isEqualTo(Sockets.End.RESET);
        }
    }

    @Test
    void clientAuthenticationGets407WithAChallengeAndThenForwards() throws Exception {
        MemoryAccounts accounts = new MemoryAccounts();
        Gateway gateway = closer.track(TestGateway.start(List.of(new HttpConnectPlugin(), accounts),
                "accountStore", "memory", "plugins.memory.users", "alice:secret"));
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            String reply = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
            assertThat(reply).startsWith("HTTP/1.1 407 ").contains("Proxy-Authenticate: Basic realm=\"relaygate\"");
        }
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + Base64.getEncoder().encodeToString("alice:secret".getBytes()) + "\r\n\r\n");
            assertThat(read(socket.getInputStream(), false).text()).isEqualTo("ok");
            assertThat(origin.next().field("Proxy-Authorization")).as("never passed on").isNull();
        }
    }

    @Test
    void aRevokedUsersResponseInFlightIsResetNeverEndedCleanly() throws Exception {
        // A remote's direct listener: the role that follows its users' accounts.
        MemoryAccounts accounts = new MemoryAccounts().put("alice", "secret", true);
        Gateway remote = closer.track(TestGateway.start(List.of(new HttpConnectPlugin(), accounts), "role", "remote",
                "accountStore", "memory", "rateLimiter", "none", "directListen", "127.0.0.1:0",
                "dataDir", data.toString(), "allowDestination", "127.0.0.1/32"));
        // A body delimited by the close: a clean end now would read as the whole of it.
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of("HTTP/1.1 200 OK\r\n\r\nthe start"));
        try (Socket socket = new Socket(remote.address("direct").getAddress(), remote.address("direct").getPort())) {
            socket.setSoTimeout(20_000);
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic "
                    + Base64.getEncoder().encodeToString("alice:secret".getBytes()) + "\r\n\r\n");
            String head = new String(socket.getInputStream().readNBytes("HTTP/1.1 200 OK\r\n".length()),
                    StandardCharsets.ISO_8859_1);
            assertThat(head).startsWith("HTTP/1.1 200 ");
            long start = System.nanoTime();
            accounts.disable("alice");
            assertThat(Sockets.awaitEnd(socket)).as("reset: a revoked response is not a complete one")
                    .isEqualTo(Sockets.End.RESET);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    void xForwardedForAndViaAreConfigurable() throws Exception {
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(OK));
        Gateway gateway = gateway("plugins.httpConnect.xForwardedFor", "true", "plugins.httpConnect.via", "");
        try (Socket socket = open(gateway)) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            Response response = read(socket.getInputStream(), false);
            assertThat(response.field("Via")).isNull();
            ScriptedOrigin.Request request = origin.next();
            assertThat(request.field("X-Forwarded-For")).isEqualTo("127.0.0.1");
            assertThat(request.field("Via")).isNull();
        }
    }

    @Test
    void bigBodiesStreamBothWaysByteExact() throws Exception {
        int size = 8 << 20;
        byte[] payload = io.relaygate.testkit.Bytes.deterministic(size, 7);
        String big = "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n"
                + new String(payload, StandardCharsets.ISO_8859_1);
        ScriptedOrigin origin = origin(r -> ScriptedOrigin.Reply.of(big));
        try (Socket socket = open(gateway())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            Thread writer = new Thread(() -> {
                try {
                    out.write(payload);
                    out.flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            Response response = read(socket.getInputStream(), false);
            writer.join(10_000);
            assertThat(response.body()).isEqualTo(payload);
            assertThat(origin.next().rawBody()).isEqualTo(payload);
        }
    }
}
