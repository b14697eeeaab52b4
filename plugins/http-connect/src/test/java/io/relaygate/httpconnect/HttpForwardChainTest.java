package io.relaygate.httpconnect;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.shaping.Shaping;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.spi.Quota;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestChain;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain HTTP forwarding over the link: each origin is a stream the local opens on the remote, which applies its
 * destination policy and the user's rate limit and counters.
 */
@Timeout(60)
class HttpForwardChainTest {

    @RegisterExtension
    final Closer closer = new Closer();
    @TempDir
    Path data;
    private final MemoryAccounts accounts = new MemoryAccounts();

    private TestChain chain() {
        return new TestChain(closer, List.of(new HttpConnectPlugin(), accounts, new TokenBucketPlugin()),
                List.of(new HttpConnectPlugin()),
                data);
    }

    private static Socket open(Gateway gateway) throws IOException {
        Socket socket = new Socket(gateway.address("mixed").getAddress(), gateway.address("mixed").getPort());
        socket.setSoTimeout(20_000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Reads a Content-Length response; {@return its body} */
    private static byte[] body(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("end of stream in the head: " + head);
            }
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        assertThat(text).startsWith("HTTP/1.1 200 ");
        int at = text.toLowerCase().indexOf("content-length:");
        int length = Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).trim());
        return in.readNBytes(length);
    }

    @Test
    void requestsToSeveralOriginsGoThroughTheRemoteAndItsPolicyDecides() throws Exception {
        accounts.put("alice", "secret", true);
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32");
        Gateway local = chain().local(remote, "alice", "secret");
        ScriptedOrigin first = closer.track(new ScriptedOrigin(r -> ScriptedOrigin.Reply.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")));
        ScriptedOrigin second = closer.track(new ScriptedOrigin(r -> ScriptedOrigin.Reply.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")));
        try (Socket socket = open(local)) {
            for (ScriptedOrigin origin : List.of(first, first, second, first)) {
                send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(new String(body(socket.getInputStream()), StandardCharsets.ISO_8859_1))
                        .isEqualTo(origin == first ? "first" : "second");
            }
            send(socket, "GET http://127.0.0.2:" + first.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
            String refused = new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1);
            assertThat(refused).startsWith("HTTP/1.1 403 ").contains("destination not allowed");
        }
        assertThat(first.connections()).as("kept while the origin stayed the same").isEqualTo(2);
    }

    @Test
    void aRateLimitedUsersDownloadsKeepToTheRateAndAreCounted() throws Exception {
        long rate = 64 * 1024;
        int size = 256 * 1024;
        accounts.put("alice", "secret", true);
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32");
        accounts.rate("alice", rate);
        Gateway local = chain().local(remote, "alice", "secret");
        byte[] payload = Bytes.deterministic(size, 3);
        String response = "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n"
                + new String(payload, StandardCharsets.ISO_8859_1);
        ScriptedOrigin origin = closer.track(new ScriptedOrigin(r -> ScriptedOrigin.Reply.of(response)));
        long start = System.nanoTime();
        try (Socket socket = open(local)) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(body(socket.getInputStream())).isEqualTo(payload);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long burst = 64 * 1024;
        assertThat(seconds).as("no faster than the rate after the burst").isGreaterThanOrEqualTo(
                (size - burst) / (double) rate * 0.95);
        Shaping.Meter meter = remote.shaping().meters().get("alice");
        assertThat(meter.bytesDown()).isGreaterThanOrEqualTo(size);
        assertThat(meter.shapedBytes()).isPositive();
    }

    @Test
    void overTheUsersCapOrQuotaCONNECTAndForwardedRequestsGet429WithTheReason() throws Exception {
        accounts.put("alice", "secret", true).limits("alice", l -> l.withMaxConnections(1));
        Gateway remote = chain().remote("allowDestination", "127.0.0.1/32");
        Gateway local = chain().local(remote, "alice", "secret");
        ScriptedOrigin origin = closer.track(new ScriptedOrigin(r -> ScriptedOrigin.Reply.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
        try (Socket held = open(local); Socket over = open(local)) {
            send(held, "CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(new String(held.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1))
                    .isEqualTo("HTTP/1.1 200");
            send(over, "CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(new String(Sockets.readToEnd(over), StandardCharsets.ISO_8859_1))
                    .startsWith("HTTP/1.1 429 Too Many Requests\r\n").contains("max-connections");
        }

        // A quota used up before the login: the first forwarded request is refused with the quota's reason.
        accounts.limits("alice", l -> l.withMaxConnections(0).withQuota(Quota.parse("1KiB/day")));
        accounts.addTraffic(LocalDate.now(ZoneOffset.UTC), Map.of("alice", new long[] {1024, 1024}));
        Gateway fresh = chain().remote("allowDestination", "127.0.0.1/32");
        Gateway freshLocal = chain().local(fresh, "alice", "secret");
        try (Socket socket = open(freshLocal)) {
            send(socket, "GET " + origin.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.ISO_8859_1))
                    .startsWith("HTTP/1.1 429 Too Many Requests\r\n").contains("quota");
        }
    }
}
