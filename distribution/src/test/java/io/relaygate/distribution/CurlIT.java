package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** curl through the built gateway, as a user would: SOCKS5 with local and remote names, HTTP CONNECT, IPv6. */
@Timeout(120)
class CurlIT {

    private static final long SIZE = 32L << 20;

    @TempDir
    static Path work;
    private static GatewayProcess gateway;
    private static HttpOrigin v4;
    private static HttpOrigin v6;
    private static String expected;
    private static String proxy;

    @BeforeAll
    static void start() throws Exception {
        gateway = GatewayProcess.startLocal(work);
        v4 = new HttpOrigin(InetAddress.getByName("127.0.0.1"));
        v6 = new HttpOrigin(InetAddress.getByName("::1"));
        expected = HttpOrigin.expectedSha256(SIZE);
        proxy = "127.0.0.1:" + gateway.address("mixed").getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        v4.close();
        v6.close();
    }

    private static void assertFetched(Curl.Result result) {
        assertThat(result.exit()).as(result.stderr()).isZero();
        assertThat(result.size()).isEqualTo(SIZE);
        assertThat(result.sha256()).isEqualTo(expected);
    }

    @Test
    void socks5WithALocallyResolvedAddress() throws Exception {
        assertFetched(Curl.run(work, "--socks5", proxy, "http://127.0.0.1:" + v4.port() + "/bytes/" + SIZE));
    }

    @Test
    void socks5WithTheNameResolvedByTheGateway() throws Exception {
        assertFetched(Curl.run(work, "--socks5-hostname", proxy, "http://localhost:" + v4.port() + "/bytes/" + SIZE));
    }

    @Test
    void socks5ToIpv6() throws Exception {
        assertFetched(Curl.run(work, "--socks5-hostname", proxy, "http://[::1]:" + v6.port() + "/bytes/" + SIZE));
        assertFetched(Curl.run(work, "--socks5", proxy, "http://[::1]:" + v6.port() + "/bytes/" + SIZE));
    }

    @Test
    void httpConnectTunnel() throws Exception {
        assertFetched(Curl.run(work, "-p", "-x", "http://" + proxy, "http://127.0.0.1:" + v4.port() + "/bytes/"
                + SIZE));
        assertFetched(Curl.run(work, "-p", "-x", "http://" + proxy, "http://[::1]:" + v6.port() + "/bytes/" + SIZE));
        assertFetched(Curl.run(work, "-p", "-x", "http://" + proxy, "http://localhost:" + v4.port() + "/bytes/"
                + SIZE));
    }

    @Test
    void aRefusedDestinationIsReportedToCurl() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Curl.Result socks = Curl.run(work, "--socks5", proxy, "http://127.0.0.1:" + closed + "/");
        assertThat(socks.exit()).isEqualTo(97);     // CURLE_PROXY: the SOCKS5 reply was a failure
        Curl.Result connect = Curl.run(work, "-p", "-x", "http://" + proxy, "http://127.0.0.1:" + closed + "/");
        assertThat(connect.exit()).isEqualTo(56);   // CURLE_RECV_ERROR: CONNECT answered non-2xx
        assertThat(connect.stderr()).contains("502");
    }
}
