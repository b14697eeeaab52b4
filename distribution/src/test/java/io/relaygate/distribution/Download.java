package io.relaygate.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A curl whose body comes to the test through a pipe, so the bytes are counted as curl delivers them. */
final class Download implements AutoCloseable {
    private final Process process;
    private final AtomicLong received = new AtomicLong();
    private final Thread reader;
    private volatile long finishedAt;

    /**
     * @param proxy       the proxy's HOST:PORT
     * @param proxyScheme {@code socks5h} or {@code http} (CONNECT)
     * @param size        the bytes the origin sends
     */
    Download(String proxy, String proxyScheme, HttpOrigin origin, long size) throws IOException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "120", "-x",
                proxyScheme + "://" + proxy, "http://127.0.0.1:" + origin.port() + "/bytes/" + size, "-o", "-"));
        if (proxyScheme.equals("http")) {
            command.add("--proxytunnel");       // CONNECT, not forward proxying
        }
        process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        reader = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = process.getInputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    received.addAndGet(n);
                }
            } catch (IOException e) {
                // the process was stopped
            }
            finishedAt = System.nanoTime();
        }, "download-reader");
        reader.setDaemon(true);
        reader.start();
    }

    long received() {
        return received.get();
    }

    /** {@return whether the body is still coming} */
    boolean running() {
        return reader.isAlive();
    }

    /** {@return the nanoTime at which the body ended, waiting at most {@code seconds}} */
    long awaitEnd(int seconds) throws InterruptedException {
        reader.join(TimeUnit.SECONDS.toMillis(seconds));
        assertThat(reader.isAlive()).as("download finished").isFalse();
        return finishedAt;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
