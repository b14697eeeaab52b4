package io.relaygate.core.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.relaygate.core.net.Port;
import io.relaygate.core.net.SocketPort;
import io.relaygate.core.net.TlsPort;
import io.relaygate.core.reactor.BufferPool;
import io.relaygate.core.reactor.EventLoop;
import io.relaygate.testkit.Await;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS as a port, on a real event loop and real sockets: the JDK's blocking TLS client and openssl s_client against
 * an echo served through {@link TlsPort}; TLS 1.3 only; a client that is not TLS closes only its connection.
 */
@Timeout(60)
class TlsPortTest {

    @TempDir
    Path dataDir;

    private EventLoop loop;
    private ExecutorService blocking;
    private ServerSocketChannel server;
    private LinkCertificate certificate;
    private LinkTls serverTls;
    private BufferPool records;
    private final AtomicInteger failures = new AtomicInteger();
    private final AtomicReference<Throwable> lastFailure = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        loop = new EventLoop("tls-test");
        blocking = Executors.newFixedThreadPool(2);
        certificate = LinkCertificate.loadOrCreate(dataDir);
        serverTls = LinkTls.server(certificate);
        records = TlsPort.buffers(serverTls.engine(null, 0), 4);
        server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        Thread acceptor = new Thread(this::acceptLoop, "tls-test-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        loop.shutdown();
        loop.awaitTermination(5, TimeUnit.SECONDS);
        blocking.shutdownNow();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel channel = server.accept();
                channel.configureBlocking(false);
                loop.execute(() -> serve(channel));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** On the loop: TLS over the socket, and an echo over the TLS. */
    private void serve(SocketChannel channel) {
        TlsPort tls;
        try {
            tls = new TlsPort(loop, SocketPort.register(loop, channel), serverTls.engine(null, 0), blocking, records);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        new Echo(tls);
        tls.start();
    }

    /** Echoes what it reads, with backpressure; the peer's end becomes our end. */
    private final class Echo implements Port.Handler {
        private final Port port;
        private final ByteBuffer buffer = ByteBuffer.allocate(32 * 1024);
        private boolean eof;
        private boolean ended;

        Echo(Port port) {
            this.port = port;
            port.handler(this);
            port.interest(true, false);
        }

        @Override
        public void readable() throws IOException {
            while (!eof && buffer.hasRemaining()) {
                int n = port.read(buffer);
                if (n < 0) {
                    eof = true;
                } else if (n == 0) {
                    break;
                }
            }
            flush();
        }

        @Override
        public void writable() throws IOException {
            flush();
        }

        private void flush() throws IOException {
            buffer.flip();
            port.write(buffer);
            buffer.compact();
            if (eof && buffer.position() == 0 && !ended) {
                ended = true;
                port.shutdownOutput();
            }
            port.interest(!eof && buffer.hasRemaining(), buffer.position() > 0);
        }

        @Override
        public void failed(Throwable cause) {
            failures.incrementAndGet();
            lastFailure.set(cause);
            port.reset();
        }
    }

    private SSLSocket client() throws Exception {
        SSLSocket socket = (SSLSocket) LinkTls.pinned(certificate.fingerprint()).context().getSocketFactory()
                .createSocket("127.0.0.1", server.socket().getLocalPort());
        socket.setSoTimeout(10_000);
        socket.setEnabledProtocols(new String[] {"TLSv1.3"});
        return socket;
    }

    @Test
    void eightMegabytesEchoByteExactThenBothSidesEndCleanly() throws Exception {
        byte[] sent = new byte[8 << 20];
        new SecureRandom().nextBytes(sent);
        try (SSLSocket socket = client()) {
            socket.startHandshake();
            assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    for (int at = 0; at < sent.length; at += 100_000) {
                        out.write(sent, at, Math.min(100_000, sent.length - at));
                    }
                    out.flush();
                    socket.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, blocking);
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            in.transferTo(received);
            writer.get(30, TimeUnit.SECONDS);
            assertThat(received.toByteArray()).as("echoed byte-exact, then the end of stream").isEqualTo(sent);
        }
        assertThat(failures.get()).as(String.valueOf(lastFailure.get())).isZero();
        Await.until("the port's buffers back in the pool", Duration.ofSeconds(5), () -> records.inUse() == 0);
    }

    @Test
    void aPortAtRestHoldsNoBufferAndTakesOnesAgainForTheNextBytes() throws Exception {
        try (SSLSocket socket = client()) {
            for (String word : new String[] {"first", "second"}) {
                socket.getOutputStream().write(word.getBytes(StandardCharsets.US_ASCII));
                byte[] echoed = socket.getInputStream().readNBytes(word.length());
                assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo(word);
                // Echoed, the connection open: nothing waits in either direction, so no buffer is held.
                Await.until("no buffer held at rest", Duration.ofSeconds(5), () -> records.inUse() == 0);
            }
        }
        assertThat(failures.get()).as(String.valueOf(lastFailure.get())).isZero();
    }

    @Test
    void opensslSpeaksToItAndSeesTheCertificateWhoseFingerprintWasPrinted() throws Exception {
        Process openssl = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:"
                + server.socket().getLocalPort(), "-tls1_3", "-showcerts").redirectErrorStream(true).start();
        openssl.getOutputStream().close();     // s_client ends after the handshake
        String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(openssl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("TLSv1.3");
        String pem = out.substring(out.indexOf("-----BEGIN CERTIFICATE-----"),
                out.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length());
        X509Certificate seen = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        assertThat(LinkCertificate.fingerprint(seen)).isEqualTo(certificate.fingerprint());
        assertThat(out).contains("New, TLSv1.3");
    }

    @Test
    void anOlderProtocolAndPlainBytesCloseOnlyTheirConnection() throws Exception {
        Process tls12 = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:"
                + server.socket().getLocalPort(), "-tls1_2").redirectErrorStream(true).start();
        tls12.getOutputStream().close();
        String out = new String(tls12.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(tls12.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(tls12.exitValue()).as(out).isNotZero();
        try (Socket plain = new Socket("127.0.0.1", server.socket().getLocalPort())) {
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = plain.getInputStream().readAllBytes();      // an alert at most, then the close
            assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP");
        } catch (java.net.SocketException reset) {
            // a reset is as good a close
        }
        Await.until("both refused", Duration.ofSeconds(5), () -> failures.get() >= 2);
        Await.until("what the refused held is back in the pool", Duration.ofSeconds(5), () -> records.inUse() == 0);
        try (SSLSocket socket = client()) {
            socket.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
            byte[] echoed = socket.getInputStream().readNBytes(10);
            assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("still here");
        }
    }

    @Test
    void aLocalPinnedToAnotherFingerprintRefusesTheRemote() throws Exception {
        SSLSocket socket = (SSLSocket) LinkTls.pinned("sha256:" + "00".repeat(32)).context().getSocketFactory()
                .createSocket("127.0.0.1", server.socket().getLocalPort());
        socket.setSoTimeout(10_000);
        try (socket) {
            assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLException.class)
                    .hasMessageContaining(certificate.fingerprint());
        }
    }
}
