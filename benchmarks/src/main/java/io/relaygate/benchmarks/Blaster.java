package io.relaygate.benchmarks;

import io.relaygate.testkit.TestOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** An origin that writes zeros as fast as its client reads, until the client goes away. */
final class Blaster {

    private Blaster() {
    }

    static TestOrigin start() {
        return TestOrigin.start(socket -> {
            socket.setSendBufferSize(1 << 20);
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = socket.getOutputStream();
            while (true) {
                out.write(chunk);
            }
        });
    }

    /** Reads exactly 1 MiB of what a blaster sent into {@code buffer}; {@return 0, for the benchmark to consume} */
    static long readMiB(InputStream in, byte[] buffer) throws IOException {
        long left = 1 << 20;
        while (left > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (n < 0) {
                throw new IOException("origin closed");
            }
            left -= n;
        }
        return left;
    }
}
