package io.relaygate.distribution;

import io.relaygate.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's HAProxy in the foreground, with a configuration of the test's, its log in the test's directory. */
final class Haproxy implements AutoCloseable {

    private final Process process;

    /**
     * Starts HAProxy on {@code config} (lines of haproxy.cfg) and waits until every port of {@code frontends} accepts
     * connections.
     */
    Haproxy(Path work, List<String> config, int... frontends) throws IOException {
        Path file = work.resolve("haproxy.cfg");
        Files.writeString(file, String.join("\n", config) + "\n");
        process = new ProcessBuilder("haproxy", "-db", "-f", file.toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("haproxy.log").toFile()).start();
        for (int port : frontends) {
            Await.until("haproxy listens on " + port, Duration.ofSeconds(10), () -> listening(port));
        }
    }

    private boolean listening(int port) {
        if (!process.isAlive()) {
            throw new AssertionError("haproxy exited with " + process.exitValue() + "; see haproxy.log");
        }
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
