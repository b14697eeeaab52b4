package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.relaygate.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's logs roll by size (and daily) and keep no more than their cap on disk, with the sizes set as an
 * operator would, through JAVA_OPTS; the gateway's own log goes to logs/gateway.log as well as to standard error.
 */
@Timeout(120)
class LogRotationIT {

    @TempDir
    Path work;

    @Test
    void theAccessLogRollsAndStaysUnderItsCap() throws Exception {
        Path home = GatewayProcess.unpackTarball(work.resolve("install"));
        Path logs = home.resolve("logs");
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/gateway").toString(), "--listen=127.0.0.1:0",
                "--console=off", "--data-dir=" + work.resolve("data"));
        builder.environment().put("JAVA_OPTS", "-Drelaygate.log.maxFileSize=2KB -Drelaygate.log.totalSizeCap=8KB");
        int closedPort;
        try (ServerSocket unused = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = unused.getLocalPort();
        }
        try (GatewayProcess gateway = GatewayProcess.start(builder, work)) {
            gateway.awaitListening();
            assertThat(Files.readString(logs.resolve("gateway.log"))).contains("gateway started");
            for (int i = 0; i < 400; i++) {       // each refused tunnel is an access line of about 130 bytes
                try (Socket socket = new Socket(gateway.address("mixed").getAddress(),
                        gateway.address("mixed").getPort())) {
                    socket.setSoTimeout(5_000);
                    socket.getOutputStream().write(("CONNECT 127.0.0.1:" + closedPort + " HTTP/1.1\r\nHost: x\r\n\r\n")
                            .getBytes());
                    socket.getInputStream().readAllBytes();
                }
            }
            Await.until("the access log rolled (logs: " + listing(logs) + ")", Duration.ofSeconds(20),
                    () -> archives(logs).size() >= 2);
            Await.until("the archives within the cap", Duration.ofSeconds(20), () -> total(archives(logs))
                    <= 8 * 1024);
            // the live file: absent for a moment while it rolls, never beyond the cap
            assertThat(total(List.of(logs.resolve("access.log")))).as("the live file").isLessThan(8 * 1024);
            gateway.terminate();
            assertThat(gateway.awaitExit(30)).isZero();
        }
    }

    private static List<Path> archives(Path logs) {
        try (Stream<Path> files = Files.list(logs)) {
            return files.filter(p -> p.getFileName().toString().matches("access\\..*\\.log\\.gz")).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String listing(Path logs) {
        try (Stream<Path> files = Files.list(logs)) {
            return files.map(p -> p.getFileName().toString()).toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static long total(List<Path> files) {
        long sum = 0;
        for (Path file : files) {
            try {
                sum += Files.size(file);
            } catch (IOException e) {
                // removed meanwhile by the cap: counts as nothing
            }
        }
        return sum;
    }
}
