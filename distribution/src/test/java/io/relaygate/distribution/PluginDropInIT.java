package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.PluginJars;
import io.relaygate.testkit.Sockets;
import io.relaygate.testkit.TestOrigin;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Features are jars: drop one in and it is there; take one out and it is gone. */
@Timeout(120)
class PluginDropInIT {

    @TempDir
    Path work;

    private Path copyPlugins(String... except) throws IOException {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        try (Stream<Path> dirs = Files.list(GatewayProcess.HOME.resolve("plugins"))) {
            for (Path dir : dirs.toList()) {
                if (Stream.of(except).anyMatch(e -> dir.getFileName().toString().equals(e))) {
                    continue;
                }
                Path target = Files.createDirectories(plugins.resolve(dir.getFileName()));
                try (Stream<Path> jars = Files.list(dir)) {
                    for (Path jar : jars.toList()) {
                        Files.copy(jar, target.resolve(jar.getFileName()));
                    }
                }
            }
        }
        return plugins;
    }

    @Test
    void aDroppedInProtocolPluginIsListedAndServed() throws Exception {
        Path plugins = copyPlugins();
        PluginJars.build(plugins.resolve("bang.jar"), "example.bang.BangPlugin", PluginJars.BANG_PLUGIN);
        try (GatewayProcess list = GatewayProcess.start(GatewayProcess.HOME, work, "plugins",
                "--plugins-dir=" + plugins)) {
            assertThat(list.awaitExit(30)).isZero();
            assertThat(String.join("\n", list.stdout())).containsPattern("bang\\s+9\\.9\\s+protocol bang\\s+\\S+bang.jar");
        }
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo());
             GatewayProcess gateway = GatewayProcess.startLocal(work, "--plugins-dir=" + plugins);
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.address("mixed").getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("!127.0.0.1:" + echo.port() + "\nhello").getBytes(StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            assertThat(new String(Sockets.readToEnd(socket), StandardCharsets.US_ASCII)).isEqualTo("OK\nhello");
        }
    }

    @Test
    void withoutTheSocks5JarSocks5IsRefusedAndHttpConnectStillWorks() throws Exception {
        Path plugins = copyPlugins("socks5");
        try (TestOrigin echo = TestOrigin.start(TestOrigin.echo());
             GatewayProcess gateway = GatewayProcess.startLocal(work, "--plugins-dir=" + plugins)) {
            int port = gateway.address("mixed").getPort();
            try (Socket socks = new Socket(InetAddress.getLoopbackAddress(), port)) {
                socks.setSoTimeout(10_000);
                socks.getOutputStream().write(new byte[] {5, 1, 0});
                assertThat(Sockets.readToEnd(socks)).isEmpty();
            }
            try (Socket http = new Socket(InetAddress.getLoopbackAddress(), port)) {
                http.setSoTimeout(10_000);
                http.getOutputStream().write(("CONNECT 127.0.0.1:" + echo.port() + " HTTP/1.1\r\nHost: x\r\n\r\nhi")
                        .getBytes(StandardCharsets.US_ASCII));
                http.shutdownOutput();
                assertThat(new String(Sockets.readToEnd(http), StandardCharsets.US_ASCII))
                        .isEqualTo("HTTP/1.1 200 Connection established\r\n\r\nhi");
            }
        }
    }

    @Test
    void withNoProtocolPluginTheGatewaySaysSoAndExits1() throws Exception {
        Path empty = Files.createDirectories(work.resolve("empty"));
        try (GatewayProcess gateway = GatewayProcess.start(GatewayProcess.HOME, work, "--listen=127.0.0.1:0",
                "--console=off", "--plugins-dir=" + empty)) {
            assertThat(gateway.awaitExit(30)).isEqualTo(1);
            assertThat(gateway.stderr().strip()).startsWith("gateway: no protocol plugin found");
        }
    }
}
