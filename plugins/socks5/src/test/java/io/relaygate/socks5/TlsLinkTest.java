package io.relaygate.socks5;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.core.Gateway;
import io.relaygate.core.tls.LinkCertificate;
import io.relaygate.core.tls.LinkTls;
import io.relaygate.ratelimit.TokenBucketPlugin;
import io.relaygate.testkit.Await;
import io.relaygate.testkit.Bytes;
import io.relaygate.testkit.Closer;
import io.relaygate.testkit.LogCapture;
import io.relaygate.testkit.MemoryAccounts;
import io.relaygate.testkit.Socks5Client;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestChain;
import io.relaygate.testkit.TestOrigin;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLServerSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link over TLS 1.3 to a pinned remote: tunnels byte-exact, nothing of them or of the user in the clear on the
 * wire, and a local pinned to another certificate refused before anything is sent.
 */
@Timeout(60)
class TlsLinkTest {

    @TempDir
    Path data;
    @RegisterExtension
    final Closer closer = new Closer();
    private final MemoryAccounts accounts = new MemoryAccounts();

    private TestChain chain() {
        return new TestChain(closer, List.of(new Socks5Plugin(), accounts, new TokenBucketPlugin()),
                List.of(new Socks5Plugin()), data);
    }

    private Gateway remote(boolean tls) {
        List<String> settings = new ArrayList<>(List.of("plugins.memory.users", "alice:secret",
                "allowDestination", "127.0.0.1/32"));
        if (!tls) {
            settings.addAll(List.of("linkTls.mode", "off"));
        }
        return chain().remote(settings.toArray(String[]::new));
    }

    /** A TCP relay that keeps every byte it carries, in both directions: what a capture of the link sees. */
    private static final class Wiretap implements AutoCloseable {
        final ServerSocket server;
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();

        Wiretap(InetSocketAddress target) throws IOException {
            server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket in = server.accept();
                        Socket out = new Socket(target.getAddress(), target.getPort());
                        pump(in, out);
                        pump(out, in);
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "wiretap");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void pump(Socket from, Socket to) {
            pump(from, to, seen);
        }

        /** Copies {@code from} to {@code to} on a thread of its own, keeping a copy in {@code seen}. */
        static void pump(Socket from, Socket to, ByteArrayOutputStream seen) {
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[16 * 1024];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        synchronized (seen) {
                            seen.write(buffer, 0, n);
                        }
                        out.write(buffer, 0, n);
                    }
                    to.shutdownOutput();
                } catch (IOException e) {
                    // one side went away: so does the other
                }
            }, "wiretap-pump");
            thread.setDaemon(true);
            thread.start();
        }

        byte[] seen() {
            synchronized (seen) {
                return seen.toByteArray();
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** Sends {@code payload} through a local behind a wiretap and checks the echo. {@return what the tap saw} */
    private byte[] tunnelThroughWiretap(boolean tls, byte[] payload) throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(tls);
        Wiretap tap = closer.track(new Wiretap(remote.address("link")));
        List<String> localSettings = new ArrayList<>(List.of("remote", "127.0.0.1:" + tap.port(), "user", "alice"));
        localSettings.addAll(tls ? List.of("remoteFingerprint", remote.linkFingerprint())
                : List.of("linkTls.mode", "off"));
        Gateway local = closer.track(Gateway.builder(io.relaygate.testkit.TestGateway.config(
                localSettings.toArray(String[]::new))).plugins(List.of(new Socks5Plugin()))
                .linkPassword("secret".getBytes(StandardCharsets.UTF_8)).start());
        try (Socket socket = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port())) {
            socket.getOutputStream().write(payload);
            socket.shutdownOutput();
            assertThat(Sockets.readToEnd(socket)).isEqualTo(payload);
        }
        return tap.seen();
    }

    private static boolean containsAnySample(byte[] haystack, byte[] payload) {
        for (int at = 0; at + 64 <= payload.length; at += 4096) {
            byte[] sample = Arrays.copyOfRange(payload, at, at + 64);
            if (indexOf(haystack, sample) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void overTlsTheWireCarriesNeitherTheTunnelsBytesNorTheUser() throws Exception {
        byte[] payload = Bytes.deterministic(1 << 20, 11);
        byte[] seen = tunnelThroughWiretap(true, payload);
        assertThat(seen.length).as("the tunnel crossed the tap").isGreaterThan(payload.length * 2);
        assertThat(containsAnySample(seen, payload)).as("a 64-byte sample of the file on the wire").isFalse();
        assertThat(indexOf(seen, "alice".getBytes(StandardCharsets.UTF_8))).as("the user name on the wire")
                .isNegative();
    }

    @Test
    void aPlaintextLinkWouldShowThem() throws Exception {
        // The check above can fail: without TLS the same capture holds both.
        byte[] payload = Bytes.deterministic(1 << 20, 12);
        byte[] seen = tunnelThroughWiretap(false, payload);
        assertThat(containsAnySample(seen, payload)).isTrue();
        assertThat(indexOf(seen, "alice".getBytes(StandardCharsets.UTF_8))).isNotNegative();
    }

    @Test
    void aManInTheMiddleTheLocalTrustsCannotRelayTheLogin() throws Exception {
        Gateway remote = remote(true);
        // It terminates the local's TLS with its own certificate, which the local was told to pin, and opens its
        // own TLS to the real remote: only the channel binding in the proofs can tell.
        Path mitmData = java.nio.file.Files.createDirectories(data.resolve("mitm"));
        LinkCertificate mitmCertificate = LinkCertificate.loadOrCreate(mitmData);
        SSLServerSocket listening = (SSLServerSocket) LinkTls.server(mitmCertificate).context()
                .getServerSocketFactory().createServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        closer.track(listening);
        javax.net.ssl.SSLSocketFactory toRemote = LinkTls.pinned(remote.linkFingerprint()).context()
                .getSocketFactory();
        Thread mitm = new Thread(() -> {
            while (!listening.isClosed()) {
                try {
                    Socket in = listening.accept();
                    Socket out = toRemote.createSocket("127.0.0.1", remote.address("link").getPort());
                    Wiretap.pump(in, out, new ByteArrayOutputStream());
                    Wiretap.pump(out, in, new ByteArrayOutputStream());
                } catch (IOException e) {
                    return;
                }
            }
        }, "mitm");
        mitm.setDaemon(true);
        mitm.start();
        try (LogCapture linkLog = LogCapture.of("io.relaygate.link")) {
            Gateway local = chain().local(remote, "alice", "secret", "remote", "127.0.0.1:"
                    + listening.getLocalPort(), "remoteFingerprint", mitmCertificate.fingerprint());
            try (Socket socket = Socks5Client.open(local.address("mixed"))) {
                socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", 9));
                new DataInputStream(socket.getInputStream()).readFully(new byte[2]);
                assertThat(Socks5Client.readReply(socket).code()).as("refused like bad credentials").isEqualTo(2);
            }
            Await.until("the remote refused the proof", Duration.ofSeconds(5),
                    () -> !linkLog.linesContaining("authentication failed for user alice").isEmpty());
        }
        assertThat(remote.sessions().size()).as("no link logged in").isZero();
    }

    @Test
    void aLocalTrustingOnFirstUseRecordsTheRemoteAndTunnels() throws Exception {
        TestOrigin echo = closer.track(TestOrigin.start(TestOrigin.echo()));
        Gateway remote = remote(true);
        Path localData = java.nio.file.Files.createDirectories(data.resolve("local"));
        Gateway local = chain().local(remote, "alice", "secret", "remoteFingerprint", "first-use", "dataDir",
                localData.toString());
        byte[] payload = Bytes.deterministic(100_000, 13);
        try (Socket socket = Socks5Client.connect(local.address("mixed"), "127.0.0.1", echo.port())) {
            socket.getOutputStream().write(payload);
            socket.shutdownOutput();
            assertThat(Sockets.readToEnd(socket)).isEqualTo(payload);
        }
        String recorded = java.nio.file.Files.readString(localData.resolve("known-remotes"));
        assertThat(recorded).contains("127.0.0.1:" + remote.address("link").getPort() + " "
                + remote.linkFingerprint());
    }

    @Test
    void aLocalPinnedToAnotherCertificateIsRefusedBeforeAnyLogin() throws Exception {
        Gateway remote = remote(true);
        String wrong = "sha256:" + "ab".repeat(32);
        try (LogCapture log = LogCapture.of("io.relaygate.core.link.LinkConnector")) {
            Gateway local = chain().local(remote, "alice", "secret", "remoteFingerprint", wrong);
            try (Socket socket = Socks5Client.open(local.address("mixed"))) {
                socket.getOutputStream().write(Socks5Client.greetingAndRequest("127.0.0.1", 9));
                new DataInputStream(socket.getInputStream()).readFully(new byte[2]);
                assertThat(Socks5Client.readReply(socket).code()).as("SOCKS5 0x02, not allowed").isEqualTo(2);
            }
            Await.until("the refusal logged", Duration.ofSeconds(5), () -> !log.linesContaining(wrong).isEmpty());
            assertThat(log.linesContaining(wrong).get(0)).contains(remote.linkFingerprint());
        }
        assertThat(remote.sessions().size()).as("no link ever logged in").isZero();
    }
}
